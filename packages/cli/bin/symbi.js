#!/usr/bin/env node
// Committed so package managers can link the `symbi` bin on install, before `dist/` is built.
import '../dist/bin.js';
