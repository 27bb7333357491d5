package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// msgID names a message of the catalogue: a text the Manager sends
// clients.
type msgID uint8

// The messages, in the catalogue's order.
const (
	// Credentials, permissions and the status of a request.
	msgUnauthenticated msgID = iota
	msgBadCredentials
	msgForbidden
	msgScope
	msgUnconfirmed
	msgReauth
	msgTwoFactorOnly
	msgThrottled
	msgCSRF
	msgCrossOrigin
	msgBadRequest
	msgNotFound
	msgMethod
	msgTooLarge
	msgInternal
	msgNotImplemented
	msgUnavailable

	// Request bodies.
	msgUnsupportedType
	msgLoginUnsupportedType
	msgBodyUnreadable
	msgBodyNotUTF8
	msgBodyNotObject
	msgLoginBodyNotObject
	msgBodyInvalidJSON
	msgMemberRepeated
	msgBodyTrailing
	msgNotString
	msgFormInvalid
	msgFormNotUTF8
	msgFieldRepeated
	msgFieldsNUL

	// Login.
	msgRememberNotBool
	msgLoginFieldRepeated
	msgCredentialsMissing
	msgCredentialsNUL

	// Registration, passwords and emails.
	msgEmailMissing
	msgEmailInvalid
	msgEmailTaken
	msgEmailSame
	msgPasswordMissing
	msgPasswordShort
	msgPasswordLong
	msgPasswordRetype
	msgPasswordSame
	msgPasswordBreached
	msgPasswordWrong

	// Mailed links.
	msgConfirmed
	msgAlreadyConfirmed
	msgResetValid
	msgEmailChanged
	msgLinkInvalid
	msgLinkExpired
	msgLinkExpiredAsk
	msgEmailInUse

	// Refresh tokens and device sessions.
	msgRefreshMissing
	msgNoSuchSession

	// Personal access tokens.
	msgTokenNameMissing
	msgTokenNameBad
	msgScopesMissing
	msgScopeUnknown
	msgScopeDenied
	msgExpiresBad
	msgTooManyTokens
	msgNoSuchToken
	msgTokenFieldsRepeated
	msgScopesNotList
	msgExpiresNotNumber

	// Second factors.
	msgSetupUnknown
	msgSetupInvalid
	msgCodeMissing
	msgCodeInvalid
	msgRecoveryCodeInvalid
	msgStateMissing
	msgStateInvalid
	msgNoSecondFactor

	// Passkeys.
	msgPasskeyNameMissing
	msgPasskeyNameTooLong
	msgPasskeyNameInUse
	msgPasskeyNameNotFound
	msgPasskeyUsage
	msgPasskeyTooMany
	msgPasskeyMissing
	msgPasskeyInvalid
	msgPasskeyRegistered
	msgPasskeyReplayed
	msgPasskeyStateInvalid
	msgPasskeyNone

	numMessages
)

// catalogue holds the stable code and the default English text of every
// message the Manager sends clients, in the order of docs/messages.md
// (TestMessagesDoc keeps the two in step). A code is Flask-Security's
// SECURITY_MSG_ key where the meaning is the same. A text may carry fmt
// verbs, filled at the point the message is written; Config.Messages
// replaces texts by code (see newMessages).
//
//gosec:disable G101 -- messages, not credentials
var catalogue = [numMessages]struct{ code, text string }{
	msgUnauthenticated: {"UNAUTHENTICATED", "You are not authenticated. Please supply the correct credentials."},
	msgBadCredentials:  {"GENERIC_AUTHN_FAILED", "Invalid email or password."},
	msgForbidden:       {"UNAUTHORIZED", "You do not have permission to view this resource."},
	msgScope:           {"INSUFFICIENT_SCOPE", "This credential does not allow this request."},
	msgUnconfirmed:     {"CONFIRMATION_REQUIRED", "Unconfirmed account"},
	msgReauth:          {"REAUTHENTICATION_REQUIRED", "You must re-authenticate to access this endpoint"},
	msgTwoFactorOnly:   {"TWO_FACTOR_REQUIRED", "This account requires a second factor: log in with the password and then a code."},
	msgThrottled:       {"TOO_MANY_ATTEMPTS", "Too many failed attempts. Retry later."},
	msgCSRF:            {"CSRF_TOKEN_INVALID", "CSRF token missing or invalid."},
	msgCrossOrigin:     {"CSRF_CROSS_ORIGIN", "CSRF check failed: the request comes from another origin."},
	msgBadRequest:      {"BAD_REQUEST", "Bad Request"},
	msgNotFound:        {"NOT_FOUND", "Not Found"},
	msgMethod:          {"METHOD_NOT_ALLOWED", "Method not allowed."},
	msgTooLarge:        {"REQUEST_TOO_LARGE", "Request body too large."},
	msgInternal:        {"INTERNAL_ERROR", "Internal Server Error"},
	msgNotImplemented:  {"NOT_IMPLEMENTED", "Not supported by this server."},
	msgUnavailable:     {"SERVICE_UNAVAILABLE", "The service is temporarily unavailable. Please retry."},

	msgUnsupportedType:      {"UNSUPPORTED_MEDIA_TYPE", "Send the request as application/json or application/x-www-form-urlencoded."},
	msgLoginUnsupportedType: {"LOGIN_UNSUPPORTED_MEDIA_TYPE", "Send the credentials as application/json or application/x-www-form-urlencoded."},
	msgBodyUnreadable:       {"BODY_UNREADABLE", "The request body could not be read."},
	msgBodyNotUTF8:          {"BODY_NOT_UTF8", "The request body is not valid UTF-8."},
	msgBodyNotObject:        {"BODY_NOT_OBJECT", "The request body must be a JSON object."},
	msgLoginBodyNotObject:   {"LOGIN_BODY_NOT_OBJECT", `The request body must be a JSON object with "email" and "password" strings.`},
	msgBodyInvalidJSON:      {"BODY_INVALID_JSON", "The request body is not valid JSON."},
	msgMemberRepeated:       {"JSON_MEMBER_REPEATED", `The member "%s" appears more than once.`},
	msgBodyTrailing:         {"BODY_TRAILING_DATA", "The request body has data after the JSON object."},
	msgNotString:            {"FIELD_NOT_STRING", `"%s" must be a string.`},
	msgFormInvalid:          {"FORM_INVALID", "The form is not valid application/x-www-form-urlencoded data."},
	msgFormNotUTF8:          {"FORM_NOT_UTF8", "The form is not valid UTF-8."},
	msgFieldRepeated:        {"FORM_FIELD_REPEATED", `The field "%s" may appear only once.`},
	msgFieldsNUL:            {"FIELDS_CONTAIN_NUL", "The fields must not contain NUL characters."},

	msgRememberNotBool:    {"REMEMBER_NOT_BOOLEAN", `"remember" must be true or false.`},
	msgLoginFieldRepeated: {"LOGIN_FIELD_REPEATED", "Each of email and password may appear only once."},
	msgCredentialsMissing: {"CREDENTIALS_NOT_PROVIDED", "Both email and password are required."},
	msgCredentialsNUL:     {"CREDENTIALS_CONTAIN_NUL", "The credentials must not contain NUL characters."},

	msgEmailMissing:     {"EMAIL_NOT_PROVIDED", "Email not provided."},
	msgEmailInvalid:     {"INVALID_EMAIL_ADDRESS", "Invalid email address."},
	msgEmailTaken:       {"EMAIL_ALREADY_ASSOCIATED", "This email address is already registered."},
	msgEmailSame:        {"EMAIL_IS_THE_SAME", "The new email address is the current one."},
	msgPasswordMissing:  {"PASSWORD_NOT_PROVIDED", "Password not provided."},
	msgPasswordShort:    {"PASSWORD_INVALID_LENGTH", "Password must be at least %d characters."},
	msgPasswordLong:     {"PASSWORD_TOO_LONG", "Password is too long."},
	msgPasswordRetype:   {"RETYPE_PASSWORD_MISMATCH", "Passwords do not match."},
	msgPasswordSame:     {"PASSWORD_IS_THE_SAME", "The new password must differ from the current one."},
	msgPasswordBreached: {"PASSWORD_BREACHED", "This password appears in known data breaches; choose another."},
	msgPasswordWrong:    {"INVALID_PASSWORD", "Invalid password."},

	msgConfirmed:        {"EMAIL_CONFIRMED", "Thank you. Your email address has been confirmed."},
	msgAlreadyConfirmed: {"ALREADY_CONFIRMED", "Your email address has already been confirmed."},
	msgResetValid:       {"CHOOSE_NEW_PASSWORD", "Choose a new password."},
	msgEmailChanged:     {"EMAIL_CHANGED", "Your email address has been changed."},
	msgLinkInvalid:      {"LINK_INVALID", "This link is not valid. Ask for a new one."},
	msgLinkExpired:      {"LINK_EXPIRED_RESENT", "This link has expired. A new one has been sent."},
	msgLinkExpiredAsk:   {"LINK_EXPIRED", "This link has expired. Ask for a new one."},
	msgEmailInUse:       {"LINK_EMAIL_IN_USE", "This link is not valid: the address is in use by another account."},

	msgRefreshMissing: {"REFRESH_TOKEN_NOT_PROVIDED", `Send the refresh token as "refresh_token".`},
	msgNoSuchSession:  {"SESSION_NOT_FOUND", "No such session."},

	msgTokenNameMissing:    {"TOKEN_NAME_NOT_PROVIDED", "Name not provided."},
	msgTokenNameBad:        {"TOKEN_NAME_INVALID", "The name must be at most %d characters, without control characters."},
	msgScopesMissing:       {"SCOPES_NOT_PROVIDED", "Choose at least one scope."},
	msgScopeUnknown:        {"SCOPE_UNKNOWN", "Unknown scope: %s."},
	msgScopeDenied:         {"SCOPE_NOT_ALLOWED", "Your account may not grant the scope %s."},
	msgExpiresBad:          {"TOKEN_LIFETIME_INVALID", "The lifetime must be a whole number of seconds from 1 to %d."},
	msgTooManyTokens:       {"TOO_MANY_TOKENS", "You have too many personal access tokens; revoke one first."},
	msgNoSuchToken:         {"TOKEN_NOT_FOUND", "No such token."},
	msgTokenFieldsRepeated: {"TOKEN_FIELDS_REPEATED", `The fields "name" and "expires_in" may appear only once.`},
	msgScopesNotList:       {"SCOPES_NOT_LIST", `"scopes" must be a list of strings.`},
	msgExpiresNotNumber:    {"EXPIRES_IN_NOT_NUMBER", `"expires_in" must be a number of seconds.`},

	msgSetupUnknown:        {"TWO_FACTOR_METHOD_NOT_AVAILABLE", `Choose "authenticator" or "disable".`},
	msgSetupInvalid:        {"TWO_FACTOR_SETUP_EXPIRED", "This setup has expired or is not valid. Start it again."},
	msgCodeMissing:         {"CODE_NOT_PROVIDED", "Code not provided."},
	msgCodeInvalid:         {"TWO_FACTOR_INVALID_TOKEN", "Invalid code"},
	msgRecoveryCodeInvalid: {"INVALID_RECOVERY_CODE", "Invalid code"},
	msgStateMissing:        {"TWO_FACTOR_STATE_NOT_PROVIDED", `Send the state token as "tf_state_token".`},
	msgStateInvalid:        {"TWO_FACTOR_STATE_INVALID", "This sign-in has expired or is not valid. Log in again."},
	msgNoSecondFactor:      {"TWO_FACTOR_NOT_SET_UP", "Set up a second factor first."},

	msgPasskeyNameMissing:  {"WEBAUTHN_NAME_REQUIRED", "Give the passkey a name."},
	msgPasskeyNameTooLong:  {"WEBAUTHN_NAME_TOO_LONG", "A passkey's name is at most %d characters."},
	msgPasskeyNameInUse:    {"WEBAUTHN_NAME_INUSE", "You already have a passkey with this name."},
	msgPasskeyNameNotFound: {"WEBAUTHN_NAME_NOT_FOUND", "You have no passkey with this name."},
	msgPasskeyUsage:        {"WEBAUTHN_USAGE_INVALID", `Choose "first" or "secondary".`},
	msgPasskeyTooMany:      {"WEBAUTHN_TOO_MANY", "You have the most passkeys allowed: delete one first."},
	msgPasskeyMissing:      {"WEBAUTHN_CREDENTIAL_REQUIRED", `Send the browser's credential as "credential".`},
	msgPasskeyInvalid:      {"WEBAUTHN_NO_VERIFY", "The passkey could not be verified."},
	msgPasskeyRegistered:   {"WEBAUTHN_CREDENTIAL_ID_INUSE", "This passkey is already registered."},
	msgPasskeyReplayed:     {"WEBAUTHN_REPLAYED", "This passkey was used for another sign-in meanwhile: start again."},
	msgPasskeyStateInvalid: {"WEBAUTHN_EXPIRED", "This passkey ceremony has expired or is not valid. Start it again."},
	msgPasskeyNone:         {"WEBAUTHN_NO_CREDENTIALS", "This account has no passkey."},
}

// message is a message of the catalogue with the arguments of its text's
// verbs.
type message struct {
	id   msgID
	args []any
}

func (x message) code() string { return catalogue[x.id].code }

// defaultText is x's text in English, whatever Config.Messages says: for
// logs and Error methods.
func (x message) defaultText() string {
	if len(x.args) == 0 {
		return catalogue[x.id].text
	}
	return fmt.Sprintf(catalogue[x.id].text, x.args...)
}

// messages are the texts a Manager sends: the catalogue's, less those
// Config.Messages replaces.
type messages struct {
	// text is each message's fmt format; for a text without verbs, the
	// text itself ("%%" already made "%").
	text [numMessages]string
	// quoted is each text without verbs as a JSON string, made once so
	// that answering with one costs no encoding.
	quoted [numMessages]string
}

// newMessages returns the catalogue's texts with replace's, keyed by code,
// instead. It refuses an unknown code, an empty text or one that is not
// UTF-8, and a text whose fmt verbs are not the default's, in the same
// order: a client never sees %!d(MISSING).
func newMessages(replace map[string]string) (*messages, error) {
	ms := &messages{}
	for id := range numMessages {
		ms.text[id] = catalogue[id].text
	}
	codes := make([]string, 0, len(replace))
	for code := range replace {
		codes = append(codes, code)
	}
	slices.Sort(codes) // the first error is the same every time
	for _, code := range codes {
		text := replace[code]
		id, ok := messageByCode(code)
		switch {
		case !ok:
			return nil, fmt.Errorf("auth: Config.Messages: unknown code %q (the codes are in docs/messages.md)", code)
		case text == "":
			return nil, fmt.Errorf("auth: Config.Messages[%q] is empty", code)
		case !utf8.ValidString(text):
			return nil, fmt.Errorf("auth: Config.Messages[%q] is not valid UTF-8", code)
		}
		want, _ := fmtVerbs(catalogue[id].text)
		got, err := fmtVerbs(text)
		if err != nil {
			return nil, fmt.Errorf("auth: Config.Messages[%q]: %w", code, err)
		}
		if !slices.Equal(got, want) {
			return nil, fmt.Errorf("auth: Config.Messages[%q] has the verbs %s, want %s as in %q (write %%%% for a percent sign)",
				code, verbList(got), verbList(want), catalogue[id].text)
		}
		ms.text[id] = text
	}
	for id := range numMessages {
		if verbs, _ := fmtVerbs(ms.text[id]); len(verbs) == 0 {
			ms.text[id] = strings.ReplaceAll(ms.text[id], "%%", "%")
			q, err := json.Marshal(ms.text[id])
			if err != nil {
				return nil, err // a string always encodes
			}
			ms.quoted[id] = string(q)
		}
	}
	return ms, nil
}

// messageByCode returns the message whose code is code.
func messageByCode(code string) (msgID, bool) {
	for id := range numMessages {
		if catalogue[id].code == code {
			return id, true
		}
	}
	return 0, false
}

// text is x's text, its verbs filled.
func (ms *messages) textOf(x message) string {
	if len(x.args) == 0 {
		return ms.text[x.id]
	}
	return fmt.Sprintf(ms.text[x.id], x.args...)
}

// appendQuoted appends x's text as a JSON string.
func (ms *messages) appendQuoted(b []byte, x message) []byte {
	if q := ms.quoted[x.id]; q != "" && len(x.args) == 0 {
		return append(b, q...)
	}
	q, _ := json.Marshal(ms.textOf(x)) // a string always encodes
	return append(b, q...)
}

// fmtVerbs returns the verbs of the fmt format s, in order: the letter of
// each directive, whatever its flags, width and precision. It refuses what
// a catalogue text never has: argument indexes, a * width or precision,
// and a % at the end.
func fmtVerbs(s string) ([]rune, error) {
	var verbs []rune
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		i++
		for i < len(s) && strings.IndexByte("+-# 0", s[i]) >= 0 {
			i++
		}
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == len(s) {
			return nil, errors.New("a % ends the text (write %% for a percent sign)")
		}
		switch s[i] {
		case '%':
			if s[i-1] != '%' {
				return nil, errors.New("a %% has flags")
			}
			continue
		case '*', '[':
			return nil, fmt.Errorf("%%%c is not supported", s[i])
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		verbs = append(verbs, r)
		i += size - 1
	}
	return verbs, nil
}

// verbList shows verbs for an error message: "%d, %s", or "none".
func verbList(verbs []rune) string {
	if len(verbs) == 0 {
		return "none"
	}
	parts := make([]string, len(verbs))
	for i, v := range verbs {
		parts[i] = "%" + string(v)
	}
	return strings.Join(parts, ", ")
}
