package auth

import (
	"context"
	"errors"
	"net/http"
)

// register serves POST /register: see AccountHandler.
//
// A new email and a taken one take the same steps (the password is hashed
// and the user's creation tried either way) and get the same answer; the
// only difference, which message is mailed to whom, happens after the
// answer.
func (a *accounts) register(w http.ResponseWriter, r *http.Request) {
	q, err := readAccountRequest(w, r, a.m.maxBody, "email", "password", "password_confirm")
	if err != nil {
		a.fail(w, r, q, err)
		return
	}
	if a.admin == nil {
		a.m.fail(w, r, http.StatusNotImplemented, ErrReadOnlyStore)
		return
	}
	email, password := q.get("email"), q.get("password")
	f := fieldErrors{}
	checkEmailField(f, "email", email)
	a.checkNewPassword(r.Context(), f, "password", password, "password_confirm", q.get("password_confirm"))
	if len(f) > 0 {
		a.refuse(w, r, q, f, "email", "password", "password_confirm")
		return
	}
	if err := a.admitMessage(r, email); err != nil {
		a.fail(w, r, q, err)
		return
	}
	hash, err := a.m.passwords.hash(r.Context(), password)
	if err != nil {
		a.fail(w, r, q, storeError(err))
		return
	}
	u := &User{
		Email: email, PasswordHash: hash, Active: true, Confirmed: a.skipConfirm,
		Roles: append([]string(nil), a.roles...), Uniquifier: NewUniquifier(),
	}
	err = a.admin.CreateUser(r.Context(), u)
	switch {
	case errors.Is(err, ErrDuplicateEmail):
		if a.skipConfirm {
			f.add("email", msgEmailTaken)
			a.refuse(w, r, q, f, "email")
			return
		}
		a.mailUserLater(r.Context(), email, func(ctx context.Context, owner *User) {
			a.post.deliver(ctx, "register-existing", owner.Email, owner.ID, mailData{Email: owner.Email})
		})
	case err != nil:
		a.fail(w, r, q, storeError(err))
		return
	default:
		a.auditUser(r, EventRegistered, u)
		if a.skipConfirm {
			a.answerWithToken(w, r, q, "registered", u)
			return
		}
		a.sendLinkLater(r.Context(), purposeConfirm, "confirm", u.Email, u, "")
	}
	noStore(w)
	a.ok(w, r, q, "registered", struct {
		User struct{} `json:"user"`
	}{})
}

// resendConfirmation serves POST /confirm: the confirmation link is mailed
// again to an active, unconfirmed user (see mailLinkRequest).
func (a *accounts) resendConfirmation(w http.ResponseWriter, r *http.Request) {
	a.mailLinkRequest(w, r, func(ctx context.Context, u *User) {
		if u.Active && !u.Confirmed {
			a.sendLink(ctx, purposeConfirm, "confirm", u.Email, u, "")
		}
	})
}

// confirm serves GET /confirm/{token}, the mailed confirmation link.
func (a *accounts) confirm(w http.ResponseWriter, r *http.Request, token string) {
	u, _, err := a.links.ReadLinkToken(r.Context(), purposeConfirm, token, a.maxAge[purposeConfirm])
	switch {
	case errors.Is(err, ErrExpiredToken) && u != nil && !u.Confirmed:
		if a.admitMessage(r, u.Email) == nil {
			a.sendLinkLater(r.Context(), purposeConfirm, "confirm", u.Email, u, "")
		}
		a.linkOutcome(w, r, purposeConfirm, "expired", msgLinkExpired, true, nil)
		return
	case errors.Is(err, ErrStoreUnavailable):
		a.m.fail(w, r, http.StatusServiceUnavailable, err)
		return
	case u == nil || err != nil && !errors.Is(err, ErrExpiredToken):
		a.linkOutcome(w, r, purposeConfirm, "invalid", msgLinkInvalid, true, nil)
		return
	case u.Confirmed:
		a.linkOutcome(w, r, purposeConfirm, "already-confirmed", msgAlreadyConfirmed, false, nil)
		return
	}
	var changed bool
	err = a.m.updater.UpdateUser(r.Context(), u.ID, func(v *User) error {
		if foldEmail(v.Email) != foldEmail(u.Email) {
			return ErrInvalidToken // the address changed since the read
		}
		changed = !v.Confirmed
		v.Confirmed = true
		return nil
	})
	a.m.ForgetUser(u.ID)
	switch {
	case errors.Is(err, ErrInvalidToken), errors.Is(err, ErrUserNotFound):
		a.linkOutcome(w, r, purposeConfirm, "invalid", msgLinkInvalid, true, nil)
		return
	case err != nil:
		a.m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
		return
	}
	if changed {
		a.auditUser(r, EventConfirmed, u)
	}
	a.linkOutcome(w, r, purposeConfirm, "confirmed", msgConfirmed, false, nil)
}
