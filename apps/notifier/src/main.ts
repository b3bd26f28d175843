import 'reflect-metadata';

import { runService } from '@stratavore/service-runtime';

void runService({ service: 'notifier', defaultHttpPort: 7415 });
