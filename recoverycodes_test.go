package auth

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// makeRecoveryCodes makes new recovery codes for the user of tok.
func (f *tfFixture) makeRecoveryCodes(t *testing.T, tok string) []string {
	t.Helper()
	code, resp := f.post(t, "/mf-recovery-codes", tok, map[string]string{})
	list, _ := resp["recovery_codes"].([]any)
	if code != http.StatusOK || len(list) != recoveryCodeCount {
		t.Fatalf("POST /mf-recovery-codes: %d %v", code, resp)
	}
	var codes []string
	for _, c := range list {
		codes = append(codes, c.(string))
	}
	return codes
}

func (f *tfFixture) codesLeft(t *testing.T, tok string) float64 {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/mf-recovery-codes", nil)
	r.Header.Set("Authentication-Token", tok)
	rec := serve(f.account, r)
	var env struct {
		Response struct {
			Left float64 `json:"recovery_codes_left"`
		} `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET /mf-recovery-codes: %d %s", rec.Code, rec.Body)
	}
	return env.Response.Left
}

// stateToken logs the user in with the password and returns the state token.
func (f *tfFixture) stateToken(t *testing.T) string {
	t.Helper()
	_, resp := f.login(t, "user@example.com", "user-password")
	s, _ := resp["tf_state_token"].(string)
	if s == "" {
		t.Fatalf("login: %v", resp)
	}
	return s
}

func TestRecoveryCodes(t *testing.T) {
	f := newTFFixture(t, nil)
	tok := tokenOf(t, f.m, f.store, idUser)
	if code, resp := f.post(t, "/mf-recovery-codes", tok, map[string]string{}); code != http.StatusBadRequest {
		t.Errorf("codes before a second factor: %d %v, want 400", code, resp)
	}
	f.setUp(t, tok)
	codes := f.makeRecoveryCodes(t, tok)
	shape := regexp.MustCompile(`^[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !shape.MatchString(c) || seen[c] {
			t.Errorf("code %q: not of the shape, or repeated", c)
		}
		seen[c] = true
	}
	if left := f.codesLeft(t, tok); left != 10 {
		t.Errorf("left = %v, want 10", left)
	}

	// One code, typed loosely, completes a login once.
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
	code, resp := f.post(t, "/mf-recovery", "", map[string]string{"code": typed, "tf_state_token": f.stateToken(t)})
	user, _ := resp["user"].(map[string]any)
	if code != http.StatusOK || !f.works(user["authentication_token"].(string)) {
		t.Fatalf("POST /mf-recovery: %d %v", code, resp)
	}
	if left := f.codesLeft(t, tok); left != 9 {
		t.Errorf("left after one use = %v, want 9", left)
	}
	if code, resp := f.post(t, "/mf-recovery", "", map[string]string{"code": codes[3], "tf_state_token": f.stateToken(t)}); code != http.StatusBadRequest ||
		!strings.Contains(jsonText(resp), `"code":["Invalid code"]`) {
		t.Errorf("the same code twice: %d %v", code, resp)
	}
	for _, bad := range []string{"", "abcd-efgh", "0000-0000-0000", strings.Repeat("a", 100)} {
		if code, _ := f.post(t, "/mf-recovery", "", map[string]string{"code": bad, "tf_state_token": f.stateToken(t)}); code != http.StatusBadRequest {
			t.Errorf("code %q: %d, want 400", bad, code)
		}
	}
	if !strings.Contains(f.audit.String(), "auth.recovery_code.used") || strings.Contains(f.audit.String(), codes[3]) {
		t.Errorf("audit: want auth.recovery_code.used and never a code: %s", f.audit)
	}

	// Counting needs no fresh login; making new codes does.
	f.clock.t = f.clock.t.Add(2 * time.Hour)
	if left := f.codesLeft(t, tok); left != 9 {
		t.Errorf("left two hours on = %v, want 9", left)
	}
	if code, resp := f.post(t, "/mf-recovery-codes", tok, map[string]string{}); code != http.StatusUnauthorized || resp["reauth_required"] != true {
		t.Errorf("new codes with a 2-hour-old login: %d %v, want 401 reauth_required", code, resp)
	}
	f.clock.t = f.clock.t.Add(-2 * time.Hour)
	// New codes replace the old ones.
	fresh := f.makeRecoveryCodes(t, tok)
	if code, _ := f.post(t, "/mf-recovery", "", map[string]string{"code": codes[0], "tf_state_token": f.stateToken(t)}); code != http.StatusBadRequest {
		t.Errorf("an old code after new ones were made: %d, want 400", code)
	}
	if code, _ := f.post(t, "/mf-recovery", "", map[string]string{"code": fresh[0], "tf_state_token": f.stateToken(t)}); code != http.StatusOK {
		t.Errorf("a new code: %d, want 200", code)
	}
	// Turning the factor off deletes them.
	if code, _ := f.post(t, "/tf-setup", tok, map[string]string{"setup": "disable"}); code != http.StatusOK {
		t.Fatal("disable")
	}
	f.setUp(t, tok)
	if left := f.codesLeft(t, tok); left != 0 {
		t.Errorf("left after disable and setup = %v, want 0", left)
	}
}

// TestRecoveryCodesAfterKeyRotation checks that codes made before a
// rotation of the signing key still work with the old key in OldKeys.
func TestRecoveryCodesAfterKeyRotation(t *testing.T) {
	f := newTFFixture(t, nil)
	tok := tokenOf(t, f.m, f.store, idUser)
	f.setUp(t, tok)
	codes := f.makeRecoveryCodes(t, tok)
	rotated := newManagerWithKey(t, f.store, otherKey, Config{Token: TokenConfig{OldKeys: [][]byte{seededKey}}, TwoFactor: TwoFactorConfig{Enabled: true}})
	g := &tfFixture{m: rotated, store: f.store, clock: setClock(rotated, seedClock), account: rotated.AccountHandler()}
	if code, resp := g.post(t, "/mf-recovery", "", map[string]string{"code": codes[0], "tf_state_token": g.stateToken(t)}); code != http.StatusOK {
		t.Errorf("a code from before the rotation: %d %v", code, resp)
	}
}

// TestRecoveryCodeRace sends one recovery code in concurrent requests:
// exactly one logs in.
func TestRecoveryCodeRace(t *testing.T) {
	f := newTFFixture(t, nil)
	tok := tokenOf(t, f.m, f.store, idUser)
	f.setUp(t, tok)
	codes := f.makeRecoveryCodes(t, tok)
	state := f.stateToken(t)
	const n = 8
	results := make(chan int, n)
	for range n {
		go func() {
			b, _ := json.Marshal(map[string]string{"code": codes[0], "tf_state_token": state})
			r := httptest.NewRequest(http.MethodPost, "/mf-recovery", bytes.NewReader(b))
			r.Header.Set("Content-Type", "application/json")
			results <- serve(f.account, r).Code
		}()
	}
	ok := 0
	for range n {
		if <-results == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d racing requests with one recovery code logged in, want 1", ok, n)
	}
}

func TestNormalizeRecoveryCode(t *testing.T) {
	for _, c := range []string{newRecoveryCode(), newRecoveryCode()} {
		norm, ok := normalizeRecoveryCode(c)
		if !ok || len(norm) != recoveryCodeLen || strings.Contains(norm, "-") {
			t.Errorf("normalize(%q) = %q, %v", c, norm, ok)
		}
	}
	for _, bad := range []string{"", "abcd", "abcd-efgh-jkm", "abcd-efgh-jkmnp", "abcd-efgh-jkm1", "abcd-efgh-jkmé"} {
		if _, ok := normalizeRecoveryCode(bad); ok {
			t.Errorf("normalize(%q) accepted", bad)
		}
	}
}

// FuzzNormalizeRecoveryCode: reading a typed code never panics, and what
// it accepts is exactly recoveryCodeLen characters of the alphabet.
func FuzzNormalizeRecoveryCode(f *testing.F) {
	for _, s := range []string{"k7m2-qx9d-pt3f", "K7M2 QX9D PT3F", "k7m2qx9dpt3f", "k7m2-qx9d-pt3", "", "----", "k7m2-qx9d-pt3f-", "İ7m2-qx9d-pt3f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		norm, ok := normalizeRecoveryCode(s)
		if !ok {
			return
		}
		if len(norm) != recoveryCodeLen || strings.Trim(norm, recoveryAlphabet) != "" {
			t.Fatalf("normalize(%q) = %q", s, norm)
		}
	})
}
