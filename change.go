package auth

import (
	"errors"
	"net/http"
)

// change serves POST /change for a logged-in user: it checks the current
// password (throttled as a login is), sets the new one, rotates the
// uniquifier and answers with a new token.
func (a *accounts) change(w http.ResponseWriter, r *http.Request) {
	q, err := readAccountRequest(w, r, a.m.maxBody, "password", "new_password", "new_password_confirm")
	if err != nil {
		a.fail(w, r, q, err)
		return
	}
	u, _ := FromContext(r.Context())
	current, password := q.get("password"), q.get("new_password")
	f := fieldErrors{}
	if current == "" {
		f.add("password", msgPasswordMissing)
	}
	a.checkNewPassword(r.Context(), f, "new_password", password, "new_password_confirm", q.get("new_password_confirm"))
	if len(f) == 0 && password == current {
		f.add("new_password", msgPasswordSame)
	}
	order := []string{"password", "new_password", "new_password_confirm"}
	if len(f) > 0 {
		a.refuse(w, r, q, f, order...)
		return
	}
	if _, _, err := a.m.authenticate(r.Context(), u.Email, current, a.m.proxies.clientAddr(r), ""); err != nil {
		if errors.Is(err, ErrInvalidCredentials) {
			f.add("password", msgPasswordWrong)
			a.refuse(w, r, q, f, order...)
			return
		}
		a.fail(w, r, q, err)
		return
	}
	updated, err := a.replacePassword(r, u, password, func(v *User) bool {
		return v.Uniquifier == u.Uniquifier // else logged out meanwhile
	})
	switch {
	case errors.Is(err, ErrInvalidToken), errors.Is(err, ErrUserNotFound):
		a.m.fail(w, r, http.StatusUnauthorized, ErrInvalidToken)
		return
	case err != nil:
		a.fail(w, r, q, err)
		return
	}
	a.auditUser(r, EventPasswordSet, updated)
	a.post.send(r.Context(), "change-done", updated.Email, updated.ID, mailData{Email: updated.Email})
	a.answerWithToken(w, r, q, "changed", updated)
}

// requestEmailChange serves POST /change-email for a logged-in user: a
// link is mailed to the new address. Whether another account holds that
// address is not told here; the link fails when opened if one does.
func (a *accounts) requestEmailChange(w http.ResponseWriter, r *http.Request) {
	q, err := readAccountRequest(w, r, a.m.maxBody, "email")
	if err != nil {
		a.fail(w, r, q, err)
		return
	}
	u, _ := FromContext(r.Context())
	email := q.get("email")
	f := fieldErrors{}
	checkEmailField(f, "email", email)
	if len(f) == 0 && foldEmail(email) == foldEmail(u.Email) {
		f.add("email", msgEmailSame)
	}
	if len(f) > 0 {
		a.refuse(w, r, q, f, "email")
		return
	}
	if err := a.admitMessage(r, email); err != nil {
		a.fail(w, r, q, err)
		return
	}
	a.sendLinkLater(r.Context(), purposeChangeEmail, "change-email", email, u, email)
	a.ok(w, r, q, "sent", struct{}{})
}

// changeEmail serves GET /change-email/{token}, the link mailed to the new
// address: the account switches to it (confirmed, since the link reached
// it), and the old address is told.
func (a *accounts) changeEmail(w http.ResponseWriter, r *http.Request, token string) {
	u, email, err := a.links.ReadLinkToken(r.Context(), purposeChangeEmail, token, a.maxAge[purposeChangeEmail])
	switch {
	case errors.Is(err, ErrStoreUnavailable):
		a.m.fail(w, r, http.StatusServiceUnavailable, err)
		return
	case errors.Is(err, ErrExpiredToken) && u != nil:
		a.linkOutcome(w, r, purposeChangeEmail, "expired", msgLinkExpiredAsk, true, nil)
		return
	case err != nil || u == nil || !u.Active || checkEmail(email) != nil:
		a.linkOutcome(w, r, purposeChangeEmail, "invalid", msgLinkInvalid, true, nil)
		return
	}
	err = a.m.updater.UpdateUser(r.Context(), u.ID, func(v *User) error {
		if foldEmail(v.Email) != foldEmail(u.Email) {
			return ErrInvalidToken // changed meanwhile
		}
		v.Email, v.Confirmed = email, true
		return nil
	})
	a.m.ForgetUser(u.ID)
	switch {
	case errors.Is(err, ErrDuplicateEmail):
		a.linkOutcome(w, r, purposeChangeEmail, "invalid", msgEmailInUse, true, nil)
		return
	case errors.Is(err, ErrInvalidToken), errors.Is(err, ErrUserNotFound):
		a.linkOutcome(w, r, purposeChangeEmail, "invalid", msgLinkInvalid, true, nil)
		return
	case err != nil:
		a.m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
		return
	}
	a.auditUser(r, EventEmailChanged, u)
	a.post.send(r.Context(), "change-email-notice", u.Email, u.ID, mailData{Email: u.Email, NewEmail: email})
	a.linkOutcome(w, r, purposeChangeEmail, "changed", msgEmailChanged, false, nil)
}
