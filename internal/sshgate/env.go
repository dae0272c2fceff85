package sshgate

import "strings"

// Limits on the environment a client may send (ssh's SendEnv / SetEnv).
const (
	maxEnvVars     = 64
	maxEnvValueLen = 4096
	maxEnvNameLen  = 128
)

// deniedEnv are names that match the allowed pattern but belong to the
// login shell or the dynamic loader, or change what a shell runs.
var deniedEnv = map[string]bool{
	"PATH": true, "HOME": true, "SHELL": true, "USER": true, "LOGNAME": true,
	"MAIL": true, "PWD": true, "OLDPWD": true,
	"ENV": true, "BASH_ENV": true, "IFS": true, "PS4": true, "SHELLOPTS": true, "BASHOPTS": true,
	"GCONV_PATH": true, "GLIBC_TUNABLES": true, "HOSTALIASES": true, "LOCPATH": true, "NLSPATH": true,
}

// deniedEnvPrefixes are prefixes of names never accepted: the loader's,
// SSH's own and the agent's.
var deniedEnvPrefixes = []string{"LD_", "SSH_", "RUNTOOLS_", "MALLOC_", "BASH_FUNC_"}

// envAllowed reports whether a client may set the variable name: LANG,
// LC_*, TERM, TZ and other names of the form [A-Z_][A-Z0-9_]*, except the
// loader's (LD_*), SSH's (SSH_*), the agent's (RUNTOOLS_*), PATH and the
// few others in deniedEnv.
func envAllowed(name string) bool {
	if name == "" || len(name) > maxEnvNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	if deniedEnv[name] {
		return false
	}
	for _, p := range deniedEnvPrefixes {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	return true
}

// envValueAllowed rejects values that cannot be passed in an environment.
func envValueAllowed(value string) bool {
	return len(value) <= maxEnvValueLen && !strings.ContainsRune(value, 0)
}

// signals are the names RFC 4254 section 6.10 defines, without "SIG".
var signals = map[string]bool{
	"ABRT": true, "ALRM": true, "FPE": true, "HUP": true, "ILL": true, "INT": true, "KILL": true,
	"PIPE": true, "QUIT": true, "SEGV": true, "TERM": true, "USR1": true, "USR2": true,
}
