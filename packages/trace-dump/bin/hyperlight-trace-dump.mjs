#!/usr/bin/env node
import { runTraceDump } from '../dist/index.js';

process.exitCode = await runTraceDump(process.argv.slice(2));
