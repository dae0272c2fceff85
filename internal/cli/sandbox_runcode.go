package cli

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

type runCodeFlags struct {
	language, context, file, outDir, format string
	timeout                                 time.Duration
}

func (a *app) sandboxRunCodeCmd() *cobra.Command {
	var f runCodeFlags
	cmd := &cobra.Command{
		Use:   "run-code NAME [CODE]",
		Short: "Run code in a sandbox's code interpreter (Python or JavaScript)",
		Long: `Run a cell of code in the sandbox's code interpreter, whose kernel lives as
long as the sandbox: variables and imports stay from one call to the next,
and pause and resume keep them. The sandbox must come from the code
template (or one built FROM it). CODE is the argument, or -f FILE, or
standard input when neither is given or CODE is -.

Output is printed as the cell prints it; then each result (the value of the
cell's last expression, and what it displayed) as text. With --out-dir, each
image (PNG, JPEG, SVG) and HTML result is written there as a file. A cell
that raises prints its traceback and exits with 1; a timeout interrupts the
cell (the kernel lives on) and exits with 124.`,
		Example: `  runtools sandbox create --name nb --template code
  runtools sandbox run-code nb 'import pandas as pd; df = pd.DataFrame({"a": [1, 2]}); df'
  runtools sandbox run-code nb 'df.a.sum()'
  runtools sandbox run-code nb -f plot.py --out-dir plots/
  runtools sandbox run-code nb --language javascript '[1, 2, 3].map(x => x * 2)'`,
		Args: argsRange(1, 2, "needs a sandbox NAME, and the CODE unless -f or standard input gives it"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runCode(cmd, args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.language, "language", "l", "python", "python or javascript")
	fl.StringVar(&f.context, "context", "", "a context's ID (default: the language's default context)")
	fl.StringVarP(&f.file, "file", "f", "", "read the code from this file")
	fl.StringVar(&f.outDir, "out-dir", "", "write image and HTML results into this directory")
	fl.DurationVar(&f.timeout, "timeout", 0, "interrupt the cell after this long (default 5m)")
	addOutputFlag(cmd, &f.format)
	return cmd
}

func (a *app) runCode(cmd *cobra.Command, args []string, f runCodeFlags) error {
	if err := checkName(cmd, "sandbox NAME", args[0]); err != nil {
		return err
	}
	asJSON, err := wantJSON(cmd, f.format)
	if err != nil {
		return err
	}
	code, err := readCode(cmd, args, f.file)
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	req := client.RunCodeRequest{Code: code, Language: f.language, Context: f.context, TimeoutMS: int(f.timeout.Milliseconds())}
	ex, err := c.RunCode(cmd.Context(), args[0], req, func(ev client.CodeEvent) {
		if asJSON {
			return
		}
		switch ev.Type {
		case client.CodeEventStdout:
			io.WriteString(stdout, ev.Text)
		case client.CodeEventStderr:
			io.WriteString(stderr, ev.Text)
		case client.CodeEventNotice:
			fmt.Fprintf(stderr, "note: %s\n", ev.Text)
		}
	})
	if err != nil {
		return fmt.Errorf("running code in %s: %w", args[0], sandboxErr(args[0], err))
	}
	if asJSON {
		return printJSON(stdout, ex)
	}
	return showExecution(stdout, stderr, ex, f.outDir)
}

// readCode takes the code from the argument, -f, or standard input.
func readCode(cmd *cobra.Command, args []string, file string) (string, error) {
	switch {
	case file != "" && len(args) > 1:
		return "", usageErr(cmd, "give the code as an argument or with -f, not both")
	case file != "":
		b, err := os.ReadFile(file)
		return string(b), err
	case len(args) > 1 && args[1] != "-":
		return args[1], nil
	}
	b, err := io.ReadAll(cmd.InOrStdin())
	if err != nil {
		return "", fmt.Errorf("reading the code from standard input: %w", err)
	}
	return string(b), nil
}

// showExecution prints a cell's results and error, writes its images and
// HTML into outDir, and says by its error how the CLI exits.
func showExecution(stdout, stderr io.Writer, ex *client.Execution, outDir string) error {
	for i, r := range ex.Results {
		if r.Text != "" {
			fmt.Fprintln(stdout, r.Text)
		}
		for _, file := range resultFiles(r) {
			if outDir == "" {
				fmt.Fprintf(stderr, "[%s result: use --out-dir DIR to save it]\n", file.ext)
				continue
			}
			p := filepath.Join(outDir, fmt.Sprintf("result-%d-%d.%s", ex.ExecutionCount, i+1, file.ext))
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, file.data, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "wrote %s\n", p)
		}
	}
	if e := ex.Error; e != nil {
		fmt.Fprintln(stderr, strings.TrimRight(e.Traceback, "\n"))
		if e.Traceback == "" {
			fmt.Fprintf(stderr, "%s: %s\n", e.Name, e.Value)
		}
		if ex.TimedOut {
			return &ExitError{Code: exitTimedOut}
		}
		return &ExitError{Code: 1}
	}
	return nil
}

type resultFile struct {
	ext  string
	data []byte
}

// resultFiles are the representations of a result that are files.
func resultFiles(r client.CodeResult) []resultFile {
	var out []resultFile
	for _, b := range []struct{ ext, b64 string }{{"png", r.PNG}, {"jpeg", r.JPEG}} {
		if data, err := base64.StdEncoding.DecodeString(b.b64); err == nil && len(data) > 0 {
			out = append(out, resultFile{b.ext, data})
		}
	}
	for _, t := range []struct{ ext, s string }{{"svg", r.SVG}, {"html", r.HTML}} {
		if t.s != "" {
			out = append(out, resultFile{t.ext, []byte(t.s)})
		}
	}
	return out
}
