package dockerfile

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// unsupported says what to use instead of each instruction runtools does
// not build.
var unsupported = map[string]string{
	"healthcheck": "HEALTHCHECK is not supported: start a check from CMD or a script instead",
	"volume":      "VOLUME is not supported: mount a runtools volume when you create a sandbox (--volume NAME:/PATH)",
	"stopsignal":  "STOPSIGNAL is not supported: runtools ends a sandbox's processes with SIGTERM, then SIGKILL",
	"onbuild":     "ONBUILD is not supported: put those steps in the Dockerfile that builds FROM this template",
	"shell":       `SHELL is not supported: write RUN ["bash", "-c", "..."] (exec form) instead`,
}

// supported checks that runtools builds c, flags included.
func supported(c instructions.Command) error {
	line := lineOf(c.Location())
	if msg, ok := unsupported[strings.ToLower(c.Name())]; ok {
		return errorf(line, "%s", msg)
	}
	switch c := c.(type) {
	case *instructions.RunCommand:
		if len(c.FlagsUsed) > 0 {
			return errorf(line, "RUN --%s is not supported: RUN takes no flags here", c.FlagsUsed[0])
		}
		if len(c.Files) > 0 {
			return errorf(line, "RUN with a here-document is not supported: COPY a script and RUN it")
		}
	case *instructions.CopyCommand:
		if err := copyFlags(line, "COPY", c.SourcesAndDest, c.ExcludePatterns, c.Parents); err != nil {
			return err
		}
	case *instructions.AddCommand:
		if err := copyFlags(line, "ADD", c.SourcesAndDest, c.ExcludePatterns, false); err != nil {
			return err
		}
		if c.Checksum != "" || c.KeepGitDir != nil || c.Unpack != nil {
			return errorf(line, "ADD --checksum, --keep-git-dir and --unpack are not supported: ADD takes --chown and --chmod")
		}
		for _, src := range c.SourcePaths {
			if isURL(src) {
				return errorf(line, "ADD of a URL (%s) is not supported: RUN curl -fsSLo DEST %s instead", src, src)
			}
		}
	}
	return nil
}

func copyFlags(line int, name string, sd instructions.SourcesAndDest, exclude []string, parents bool) error {
	switch {
	case len(exclude) > 0:
		return errorf(line, "%s --exclude is not supported: list the files to copy, or use .dockerignore", name)
	case parents:
		return errorf(line, "%s --parents is not supported: copy each directory to its place", name)
	case len(sd.SourceContents) > 0:
		return errorf(line, "%s with a here-document is not supported: put the content in a file of the context", name)
	}
	return nil
}

func isURL(s string) bool {
	for _, p := range []string{"http://", "https://", "git@", "git://"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
