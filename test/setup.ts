/**
 * Property tests are bounded in time: a run (shrinking included) that goes on past 20 s is
 * interrupted and reported as a failure, instead of holding the suite.
 */
import fc from 'fast-check';

fc.configureGlobal({ interruptAfterTimeLimit: 20_000, markInterruptAsFailure: true });
