import { setLogLevel } from '../../store/logger.ts';

// In-process suites log nothing; child processes they start read LOG_LEVEL like any run.
setLogLevel('silent');
