package auth

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/authkit/auth/mail"
)

//go:embed mailtemplates
var builtinMailTemplates embed.FS

// The messages the account handler sends, by template name.
var mailNames = []string{
	"confirm", "register-existing", "reset", "reset-done",
	"change-done", "change-email", "change-email-notice",
}

// mailTemplate is one message's templates: NAME.txt defines "subject" and
// "text", NAME.html the HTML body.
type mailTemplate struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// mailData is what the templates see.
type mailData struct {
	Email    string // the account's address
	NewEmail string // for an email change, the new address
	Link     string // the link to open, for the messages that have one
	ValidFor string // how long the link stays valid, such as "5 days"
}

// loadMailTemplates parses each message's templates from override, where
// it has them, and from the built-in ones otherwise.
func loadMailTemplates(override fs.FS) (map[string]mailTemplate, error) {
	builtin, _ := fs.Sub(builtinMailTemplates, "mailtemplates")
	pick := func(file string) (fs.FS, []byte, error) {
		if override != nil {
			b, err := fs.ReadFile(override, file)
			if err == nil {
				return override, b, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return nil, nil, fmt.Errorf("auth: mail template %s: %w", file, err)
			}
		}
		b, err := fs.ReadFile(builtin, file)
		return builtin, b, err
	}
	out := map[string]mailTemplate{}
	for _, name := range mailNames {
		_, text, err := pick(name + ".txt")
		if err != nil {
			return nil, err
		}
		tt, err := texttemplate.New(name).Option("missingkey=error").Parse(string(text))
		if err != nil {
			return nil, fmt.Errorf("auth: mail template %s.txt: %w", name, err)
		}
		for _, block := range []string{"subject", "text"} {
			if tt.Lookup(block) == nil {
				return nil, fmt.Errorf("auth: mail template %s.txt defines no %q template", name, block)
			}
		}
		_, html, err := pick(name + ".html")
		if err != nil {
			return nil, err
		}
		ht, err := htmltemplate.New(name).Option("missingkey=error").Parse(string(html))
		if err != nil {
			return nil, fmt.Errorf("auth: mail template %s.html: %w", name, err)
		}
		// Render once with sample data, so that a template that cannot run
		// is refused by New rather than on a user's request.
		if _, err := (mailTemplate{tt, ht}).render("", mailData{Email: "a@example.com", NewEmail: "b@example.com", Link: "https://example.com/x", ValidFor: "1 day"}); err != nil {
			return nil, err
		}
		out[name] = mailTemplate{tt, ht}
	}
	return out, nil
}

// render makes the message to to from the templates and data.
func (t mailTemplate) render(to string, data mailData) (*mail.Message, error) {
	var subject, text, html bytes.Buffer
	if err := t.text.ExecuteTemplate(&subject, "subject", data); err != nil {
		return nil, fmt.Errorf("auth: mail template %s subject: %w", t.text.Name(), err)
	}
	if err := t.text.ExecuteTemplate(&text, "text", data); err != nil {
		return nil, fmt.Errorf("auth: mail template %s text: %w", t.text.Name(), err)
	}
	if err := t.html.Execute(&html, data); err != nil {
		return nil, fmt.Errorf("auth: mail template %s.html: %w", t.text.Name(), err)
	}
	return &mail.Message{
		To:      to,
		Subject: strings.Join(strings.Fields(subject.String()), " "),
		Text:    strings.TrimLeft(text.String(), "\n"),
		HTML:    html.String(),
	}, nil
}

// maxPendingMail bounds the messages being sent at once; past it a
// message is dropped and logged, so that a flood cannot pile up
// goroutines.
const maxPendingMail = 256

// postman sends the account handler's messages in the background.
type postman struct {
	mailer    mail.Mailer
	templates map[string]mailTemplate
	timeout   time.Duration
	pending   chan struct{}
	log       *slog.Logger
	audit     func(ctx context.Context, event string, attrs ...slog.Attr)
}

// later runs job in the background with a deadline of the send timeout,
// so that the caller's answer neither waits for it nor takes a time that
// depends on what it does: finding the user an email names, making a link,
// sending. Within AccountHandler the job starts only once the answer has
// been written and flushed (see afterAnswer), so that it does not compete
// with the answer for the CPU either. At most maxPendingMail jobs run or
// wait at once; past that a job is dropped, and logged.
func (p *postman) later(ctx context.Context, job func(ctx context.Context)) {
	select {
	case p.pending <- struct{}{}:
	default:
		p.log.ErrorContext(ctx, "auth: cannot send mail", "error", fmt.Sprintf("%d messages are being sent already", maxPendingMail))
		p.audit(ctx, EventMailFailed)
		return
	}
	run := func() {
		defer func() { <-p.pending }()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout)
		defer cancel()
		job(ctx)
	}
	if q, ok := ctx.Value(afterAnswerKey{}).(*afterAnswer); ok {
		q.jobs = append(q.jobs, run)
		return
	}
	go run()
}

// afterAnswer holds the jobs a request queued with postman.later, to
// start once its answer is out.
type afterAnswer struct{ jobs []func() }

type afterAnswerKey struct{}

// withAfterAnswer returns r with an empty queue of jobs.
func withAfterAnswer(r *http.Request) (*http.Request, *afterAnswer) {
	q := &afterAnswer{}
	return r.WithContext(context.WithValue(r.Context(), afterAnswerKey{}, q)), q
}

// start flushes the answer written to w and starts the queued jobs.
func (q *afterAnswer) start(w http.ResponseWriter) {
	if len(q.jobs) == 0 {
		return
	}
	_ = http.NewResponseController(w).Flush() // a writer that cannot flush is written at return
	for _, job := range q.jobs {
		time.AfterFunc(afterAnswerDelay, job)
	}
}

// afterAnswerDelay is how long after its answer is flushed a request's
// jobs start: long enough for a client, even one on the same machine, to
// have read the answer before they take any CPU.
const afterAnswerDelay = 5 * time.Millisecond

// deliver renders the named message to to and sends it. A failure is
// logged and audited with the user's ID, never the address or the message.
func (p *postman) deliver(ctx context.Context, name, to, userID string, data mailData) {
	msg, err := p.templates[name].render(to, data)
	if err == nil {
		err = p.mailer.Send(ctx, msg)
	}
	if err != nil {
		p.log.ErrorContext(ctx, "auth: cannot send mail", "message", name, "user_id", userID, "error", err.Error())
		p.audit(ctx, EventMailFailed, slog.String("message", name), slog.String("user_id", userID))
		return
	}
	p.audit(ctx, EventMailSent, slog.String("message", name), slog.String("user_id", userID))
}

// send delivers the named message in the background (see later).
func (p *postman) send(ctx context.Context, name, to, userID string, data mailData) {
	p.later(ctx, func(ctx context.Context) { p.deliver(ctx, name, to, userID, data) })
}

// validFor writes a link's lifetime for a message: "5 days", "2 hours".
func validFor(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute:
		return unit(int64(d/time.Minute), "minute")
	}
	return unit(int64(d/time.Second), "second")
}
