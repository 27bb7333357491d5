package auth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
)

// forgot serves POST /reset: a reset link is mailed to an active user (see
// mailLinkRequest).
func (a *accounts) forgot(w http.ResponseWriter, r *http.Request) {
	a.mailLinkRequest(w, r, func(ctx context.Context, u *User) {
		if u.Active {
			a.sendLink(ctx, purposeReset, "reset", u.Email, u, "")
		}
	})
}

// mailLinkRequest serves a request {email} for a mailed link: after the
// checks and the sending limits, mail is called in the background with the
// user the email names, if any, and the answer is the same for every
// email.
func (a *accounts) mailLinkRequest(w http.ResponseWriter, r *http.Request, mail func(ctx context.Context, u *User)) {
	q, err := readAccountRequest(w, r, a.m.maxBody, "email")
	if err != nil {
		a.fail(w, r, q, err)
		return
	}
	email := q.get("email")
	f := fieldErrors{}
	if checkEmailField(f, "email", email); len(f) > 0 {
		a.refuse(w, r, q, f, "email")
		return
	}
	if err := a.admitMessage(r, email); err != nil {
		a.fail(w, r, q, err)
		return
	}
	a.mailUserLater(r.Context(), email, mail)
	a.ok(w, r, q, "sent", struct{}{})
}

// readReset reads a reset link's token; an expired one for an active user
// gets a fresh link mailed. It returns the user, or the outcome to answer.
func (a *accounts) readReset(r *http.Request, token string) (u *User, status string, msg msgID, err error) {
	u, _, err = a.links.ReadLinkToken(r.Context(), purposeReset, token, a.maxAge[purposeReset])
	switch {
	case errors.Is(err, ErrStoreUnavailable):
		return nil, "", 0, err
	case u == nil:
	case err == nil && u.Active:
		return u, "valid", 0, nil
	case errors.Is(err, ErrExpiredToken) && u.Active:
		if a.admitMessage(r, u.Email) == nil {
			a.sendLinkLater(r.Context(), purposeReset, "reset", u.Email, u, "")
		}
		return nil, "expired", msgLinkExpired, nil
	}
	return nil, "invalid", msgLinkInvalid, nil
}

// openReset serves GET /reset/{token}, the mailed link: it sends the
// browser to the reset form with the token, or answers whether the link
// is valid.
func (a *accounts) openReset(w http.ResponseWriter, r *http.Request, token string) {
	u, status, msg, err := a.readReset(r, token)
	switch {
	case err != nil:
		a.m.fail(w, r, http.StatusServiceUnavailable, err)
	case u == nil:
		a.linkOutcome(w, r, purposeReset, status, msg, true, nil)
	default:
		a.linkOutcome(w, r, purposeReset, status, msgResetValid, false, url.Values{"token": {token}})
	}
}

// reset serves POST /reset/{token}: it sets the new password if the link
// is still valid, rotating the uniquifier, and answers with a new token.
func (a *accounts) reset(w http.ResponseWriter, r *http.Request, token string) {
	q, err := readAccountRequest(w, r, a.m.maxBody, "password", "password_confirm")
	if err != nil {
		a.fail(w, r, q, err)
		return
	}
	u, _, msg, err := a.readReset(r, token)
	switch {
	case err != nil:
		a.fail(w, r, q, err)
		return
	case u == nil:
		if !a.back(w, r, q, "link") {
			a.m.writeErrors(w, http.StatusBadRequest, errorReply{msgs: []message{{id: msg}}})
		}
		return
	}
	password := q.get("password")
	f := fieldErrors{}
	if a.checkNewPassword(r.Context(), f, "password", password, "password_confirm", q.get("password_confirm")); len(f) > 0 {
		a.refuse(w, r, q, f, "password", "password_confirm")
		return
	}
	updated, err := a.replacePassword(r, u, password, func(v *User) bool {
		return v.PasswordHash == u.PasswordHash // else the link was used, or the password changed, meanwhile
	})
	switch {
	case errors.Is(err, ErrInvalidToken), errors.Is(err, ErrUserNotFound):
		if !a.back(w, r, q, "link") {
			a.m.writeErrors(w, http.StatusBadRequest, errorReply{msgs: []message{{id: msgLinkInvalid}}})
		}
		return
	case err != nil:
		a.fail(w, r, q, err)
		return
	}
	a.auditUser(r, EventPasswordSet, updated)
	a.post.send(r.Context(), "reset-done", updated.Email, updated.ID, mailData{Email: updated.Email})
	if methods, err := a.m.secondFactors(r.Context(), updated); len(methods) > 0 || err != nil {
		// A mailed link is no second factor: the user logs in with the
		// new password and a code.
		type userID struct {
			ID string `json:"id"`
		}
		a.ok(w, r, q, "reset", struct {
			User     userID `json:"user"`
			Required bool   `json:"tf_required"`
		}{userID{updated.ID}, true})
		return
	}
	a.answerWithToken(w, r, q, "reset", updated)
}

// replacePassword hashes password and stores it for u with a new
// uniquifier, if still (checked in the update) the stored user v passes
// unchanged; otherwise nothing is stored and the error matches
// ErrInvalidToken. It returns the updated user.
func (a *accounts) replacePassword(r *http.Request, u *User, password string, unchanged func(v *User) bool) (*User, error) {
	hash, err := a.m.passwords.hash(r.Context(), password)
	if err != nil {
		return nil, err
	}
	var updated *User
	err = a.m.updater.UpdateUser(r.Context(), u.ID, func(v *User) error {
		if !unchanged(v) {
			return ErrInvalidToken
		}
		v.PasswordHash, v.Uniquifier = hash, NewUniquifier()
		updated = v.Clone()
		return nil
	})
	a.m.ForgetUser(u.ID)
	if err != nil && !errors.Is(err, ErrInvalidToken) {
		return nil, storeError(err)
	}
	if err == nil {
		a.m.endUserSessions(r.Context(), u.ID)
		a.m.endPersonalTokens(r.Context(), u.ID)
	}
	return updated, err
}
