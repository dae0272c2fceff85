package cluster

import "context"

type failureKey struct{}

type failureVal struct {
	node string
	fail func(error)
}

// withFailure keeps, for the ReverseProxy's error handler, which node a
// request went to and how to answer if it does not answer.
func withFailure(ctx context.Context, node string, fail func(error)) context.Context {
	return context.WithValue(ctx, failureKey{}, failureVal{node, fail})
}

func failure(ctx context.Context) (string, func(error)) {
	v, _ := ctx.Value(failureKey{}).(failureVal)
	if v.fail == nil {
		return v.node, func(error) {}
	}
	return v.node, v.fail
}
