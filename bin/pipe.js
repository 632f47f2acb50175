#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { coordinatorEntry, tuneStart } from './entry.mjs';

tuneStart(setFlagsFromString);
await import(coordinatorEntry(new URL('../dist/', import.meta.url)).url.href);
