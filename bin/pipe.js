#!/usr/bin/env node
import { coordinatorEntry } from './entry.mjs';

await import(coordinatorEntry(new URL('../dist/', import.meta.url)).url.href);
