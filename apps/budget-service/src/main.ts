import 'reflect-metadata';

import { runService } from '@stratavore/service-runtime';

void runService({ service: 'budget-service', defaultHttpPort: 7413 });
