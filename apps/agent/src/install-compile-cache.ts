/**
 * Imported first by the agent's entry points, so every module after it compiles with the code
 * cache (compile-cache.ts).
 */
import { compileCacheDir, enableCompileCache } from './compile-cache';

enableCompileCache(compileCacheDir(process.env));
