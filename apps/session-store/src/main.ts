import 'reflect-metadata';

import { runService } from '@stratavore/service-runtime';

void runService({ service: 'session-store', defaultHttpPort: 7416 });
