// Pass rate of ali-oss's own integration suite from mocha's JSON reports (one per test
// file), counting apart the tests that need Alibaba services outside OSS.
//
//   node scripts/ali_oss_suite_report.js REPORT_DIR [-v]
'use strict';
const fs = require('fs');
const path = require('path');

// Tests (by full title) that need a service outside OSS or a real DNS name.
const EXCLUDED = [
  [/inventory\(\) (put|get|list|delete)BucketInventory/, 'inventory'],
  [/should list buckets by group id/, 'resource groups (Resource Manager API)'],
  [/getBucketInfo it should return correct bucketInfo when bucket exist/, 'real DNS names (*.aliyuncs.com endpoints)'],
];

function excluded(title) {
  const hit = EXCLUDED.find(([re]) => re.test(title));
  return hit ? hit[1] : null;
}

const dir = process.argv[2];
const verbose = process.argv.includes('-v');
let passed = 0;
let inScope = 0;
const apart = {};
const failures = [];
for (const file of fs.readdirSync(dir).filter(f => f.endsWith('.json')).sort()) {
  const report = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const name = path.basename(file, '.json');
  let filePassed = 0;
  let fileScope = 0;
  const count = (test, ok) => {
    const why = excluded(test.fullTitle);
    if (why) {
      apart[why] = (apart[why] || 0) + 1;
      return;
    }
    fileScope += 1;
    if (ok) filePassed += 1;
    else failures.push(`${name}: ${test.fullTitle}\n    ${String(test.err.message || '').split('\n')[0].slice(0, 200)}`);
  };
  report.passes.forEach(t => count(t, true));
  report.failures.forEach(t => count(t, false));
  passed += filePassed;
  inScope += fileScope;
  console.log(`${name.padEnd(14)} ${filePassed}/${fileScope}`);
}
console.log(`\npassed ${passed} of ${inScope} in scope (${((100 * passed) / inScope).toFixed(1)} %)`);
for (const [why, n] of Object.entries(apart)) console.log(`counted apart: ${n} (${why})`);
if (verbose) failures.forEach(f => console.log(f));
