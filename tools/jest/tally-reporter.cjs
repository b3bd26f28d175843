// Appends each project's totals to STRATAVORE_TEST_TALLY (one JSON line per run) so that
// .ci/run can print one closing "N passed, N failed" line for the whole workspace.
const fs = require('node:fs');

class TallyReporter {
  onRunComplete(_contexts, results) {
    const file = process.env.STRATAVORE_TEST_TALLY;
    if (!file) return;
    const line = JSON.stringify({
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    });
    fs.appendFileSync(file, `${line}\n`);
  }
}

module.exports = TallyReporter;
