package wire

import (
	"errors"
	"testing"
	"time"
)

// The known answer every SDK's verifier is tested against (openssl dgst
// -sha256 -hmac whsec_x of "1800000000." and the body).
const (
	knownBody = `{"id":"evt_1","type":"created","created_at":"2026-03-01T12:00:00Z","team":"team-a","sandbox":{"id":"sandbox-abc","name":"web","template":"base","state":"running","labels":{"app":"web"}},"data":{"from":"creating","to":"running","reason":"created"}}`
	knownSig  = "t=1800000000,v1=0b7e639c2189b721f988211e47f6d6e94e0b9ee3e82f45ac2e7927dbec43924e"
)

func TestWebhookKnownAnswer(t *testing.T) {
	if got := SignWebhook("whsec_x", time.Unix(1_800_000_000, 0), []byte(knownBody)); got != knownSig {
		t.Errorf("signature %s, want %s", got, knownSig)
	}
}

func TestWebhookSignature(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"evt_1","type":"created"}`)
	sig := SignWebhook("whsec_x", now, body)
	// Known answer, so every SDK's verifier can be checked against it:
	// HMAC-SHA256("whsec_x", "1800000000." + body).
	if want := "t=1800000000,v1=" + webhookMAC("whsec_x", "1800000000", body); sig != want {
		t.Fatalf("signature %q, want %q", sig, want)
	}
	for _, tt := range []struct {
		name    string
		secret  string
		header  string
		body    string
		at      time.Time
		wantErr error
	}{
		{"valid", "whsec_x", sig, string(body), now, nil},
		{"valid within the window", "whsec_x", sig, string(body), now.Add(4 * time.Minute), nil},
		{"a second v1 matches", "whsec_x", "t=1800000000,v1=00ff," + sig[len("t=1800000000,"):], string(body), now, nil},
		{"body changed", "whsec_x", sig, `{"id":"evt_2","type":"created"}`, now, ErrWebhookSignature},
		{"wrong secret", "whsec_y", sig, string(body), now, ErrWebhookSignature},
		{"replayed later", "whsec_x", sig, string(body), now.Add(6 * time.Minute), ErrWebhookTooOld},
		{"from the future", "whsec_x", sig, string(body), now.Add(-6 * time.Minute), ErrWebhookTooOld},
		{"no header", "whsec_x", "", string(body), now, ErrWebhookSignature},
		{"no v1", "whsec_x", "t=1800000000", string(body), now, ErrWebhookSignature},
		{"timestamp changed", "whsec_x", "t=1800000001" + sig[len("t=1800000000"):], string(body), now, ErrWebhookSignature},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyWebhook(tt.secret, tt.header, []byte(tt.body), 5*time.Minute, tt.at)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("VerifyWebhook: %v, want %v", err, tt.wantErr)
			}
		})
	}
}
