#!/usr/bin/env node
// The TypeScript sources run directly on Node >= 22.18 (built-in type stripping): no build step.
import '../src/cli.ts';
