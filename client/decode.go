package client

import (
	"encoding/json"
	"fmt"
	"net/http"
)

func decodeInto[T any](resp *http.Response) (*T, error) {
	defer closeBody(resp)
	var v T
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, fmt.Errorf("decoding answer: %w", err)
	}
	return &v, nil
}

func jsonUnmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding answer: %w", err)
	}
	return nil
}
