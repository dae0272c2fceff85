package dockerfile

import "strings"

// Env is an ordered list of NAME=value pairs: a process environment, or
// the ARG values in force. It is what BuildKit's shell lexer expands with.
type Env []string

// Get returns the value of name.
func (e Env) Get(name string) (string, bool) {
	for i := len(e) - 1; i >= 0; i-- {
		if k, v, _ := strings.Cut(e[i], "="); k == name {
			return v, true
		}
	}
	return "", false
}

// Keys returns the names, in order.
func (e Env) Keys() []string {
	keys := make([]string, 0, len(e))
	for _, kv := range e {
		k, _, _ := strings.Cut(kv, "=")
		keys = append(keys, k)
	}
	return keys
}

// Set returns e with name set to value, replacing an earlier value in place.
func (e Env) Set(name, value string) Env {
	for i, kv := range e {
		if k, _, _ := strings.Cut(kv, "="); k == name {
			out := append(Env(nil), e...)
			out[i] = name + "=" + value
			return out
		}
	}
	return append(append(Env(nil), e...), name+"="+value)
}

// Merge returns e with every pair of over set on it.
func (e Env) Merge(over Env) Env {
	for _, kv := range over {
		k, v, _ := strings.Cut(kv, "=")
		e = e.Set(k, v)
	}
	return e
}

// declareArg adds an ARG to args: the --build-arg value if one was given,
// else its default, else nothing (an ARG without a value expands to "").
func declareArg(args Env, name string, def *string, buildArgs map[string]string) Env {
	if v, ok := buildArgs[name]; ok {
		return args.Set(name, v)
	}
	if def != nil {
		return args.Set(name, *def)
	}
	return args
}
