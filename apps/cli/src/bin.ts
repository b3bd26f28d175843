#!/usr/bin/env node
import { runCli } from './stratavore-cli';

void runCli(process.argv.slice(2));
