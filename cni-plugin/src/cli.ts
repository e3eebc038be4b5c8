/**
 * The compiled plugin's entry point (`npm run build:plugin` compiles this file
 * and what it imports into one executable): run one invocation.
 */
import { main } from './main';

main();
