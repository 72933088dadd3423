// Renders templates exactly as the SES stand-in does: with the stand-in's own
// renderTemplate (aws-ses-v2-local, which uses the npm handlebars package it depends
// on). Used by internal/peergroups/placeholders_test.go.
//
//   node handlebars.js REPO_ROOT CASES.json
//
// CASES.json holds [{"template": "...", "data": {...}}]; it prints
// {"handlebars": VERSION, "results": [{"output": "..."} or {"error": "..."}]}.
'use strict';
const fs = require('fs');
const path = require('path');

const [root, casesFile] = process.argv.slice(2);
const standIn = path.join(root, 'node_modules', 'aws-ses-v2-local');
const {renderTemplate} = require(path.join(standIn, 'dist', 'v2', 'renderTemplate.js'));
const handlebars = require(require.resolve('handlebars/package.json', {paths: [standIn]}));

const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8'));
const results = cases.map((c) => {
	try {
		return {output: renderTemplate(c.template, c.data || {})};
	} catch (error) {
		return {error: String(error && error.message)};
	}
});
process.stdout.write(JSON.stringify({handlebars: handlebars.version, results}));
