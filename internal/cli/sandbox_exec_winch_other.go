//go:build !unix

package cli

// watchResize does nothing where there is no SIGWINCH: the terminal keeps
// its first size.
func watchResize(func()) (stop func()) { return func() {} }
