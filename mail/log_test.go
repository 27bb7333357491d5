package mail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"

	authmail "github.com/authkit/auth/mail"
)

func TestLog(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		from    string
		msg     *authmail.Message
		wantErr error
		want    map[string]string
	}{
		{
			name: "message",
			msg:  &authmail.Message{From: "app@example.com", To: "bob@example.org", Subject: "Réinitialiser", Text: "https://example.com/reset/tok", HTML: "<p>secret html</p>"},
			want: map[string]string{"level": "INFO", "msg": "mail", "from": "app@example.com", "to": "bob@example.org", "subject": "Réinitialiser", "text": "https://example.com/reset/tok"},
		},
		{
			name: "default sender",
			from: "app@example.com",
			msg:  &authmail.Message{To: "bob@example.org", Subject: "s", Text: "t"},
			want: map[string]string{"level": "INFO", "msg": "mail", "from": "app@example.com", "to": "bob@example.org", "subject": "s", "text": "t"},
		},
		{
			name: "no sender at all",
			msg:  &authmail.Message{To: "bob@example.org", Subject: "s", Text: "t"},
			want: map[string]string{"level": "INFO", "msg": "mail", "from": "", "to": "bob@example.org", "subject": "s", "text": "t"},
		},
		{name: "header injection", msg: &authmail.Message{To: "bob@example.org\nBcc: eve@example.net"}, wantErr: authmail.ErrHeaderInjection},
		{name: "bad address", msg: &authmail.Message{To: "bob"}, wantErr: authmail.ErrInvalidAddress},
		{name: "nil message", wantErr: authmail.ErrNilMessage},
		{name: "canceled context", ctx: canceled, msg: &authmail.Message{To: "bob@example.org"}, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := authmail.Log{Logger: slog.New(slog.NewJSONHandler(&buf, nil)), From: tt.from}
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			err := l.Send(ctx, tt.msg)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Send error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if buf.Len() != 0 {
					t.Errorf("refused message logged: %s", buf.Bytes())
				}
				return
			}
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("log %q: %v", buf.Bytes(), err)
			}
			delete(got, "time")
			if len(got) != len(tt.want) {
				t.Errorf("logged %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("logged %s = %v, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestLogDefaultLogger(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	err := authmail.Log{}.Send(context.Background(), &authmail.Message{To: "bob@example.org", Subject: "s", Text: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("to=bob@example.org")) {
		t.Errorf("default logger got %q", buf.Bytes())
	}
}
