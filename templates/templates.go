// Package templates holds, as files, the built-in templates defined by a
// Dockerfile, and the code interpreter that runs in sandboxes. Each
// template's folder is a build context with its Dockerfile, built with the
// custom-template machinery (every step in a gVisor sandbox) by `runtools
// server build-templates`.
package templates

import "embed"

// Code is the code template's build context: base with IPython
// and Python's scientific stack.
//
//go:embed code
var Code embed.FS

// Interpreter is the code interpreter's server (server.py) and its
// JavaScript contexts (jsrepl.js), which the daemon puts into a sandbox
// at its first run_code.
//
//go:embed interpreter
var Interpreter embed.FS
