package itsdangerous_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/authkit/auth/itsdangerous"
)

// exampleClock is the fixed clock of the examples, so that their tokens
// are the same on every run.
func exampleClock() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }

// Example signs a payload that Python reads with
//
//	URLSafeTimedSerializer("secret-key", salt="activate").loads(token)
//
// (TestPythonVerifiesExample checks that it does).
func Example() {
	s, err := itsdangerous.New([]byte("secret-key"), itsdangerous.Config{
		Salt: "activate",
		Now:  exampleClock,
	})
	if err != nil {
		panic(err)
	}
	token, err := s.Encode(map[string]any{"id": 42})
	if err != nil {
		panic(err)
	}
	fmt.Println(token)

	var v struct {
		ID int `json:"id"`
	}
	issued, err := s.Decode(token, &v)
	fmt.Println(v.ID, issued.UTC(), err)
	// Output:
	// eyJpZCI6NDJ9.ZjIuwA.17pjMMaMlODf8opEWr_v9CzcHYk
	// 42 2024-05-01 12:00:00 +0000 UTC <nil>
}

// ExampleSerializer_Decode verifies a token with a maximum age: a day after
// it was issued it is still accepted, a day and a second after it is
// expired.
func ExampleSerializer_Decode() {
	now := exampleClock()
	s, _ := itsdangerous.New([]byte("secret-key"), itsdangerous.Config{
		Salt:   "activate",
		MaxAge: 24 * time.Hour,
		Now:    func() time.Time { return now },
	})
	token, _ := s.Encode([]string{"user-7", "d1f0"})

	var pair []string
	now = now.Add(24 * time.Hour)
	_, err := s.Decode(token, &pair)
	fmt.Println(pair, err)

	now = now.Add(time.Second)
	_, err = s.Decode(token, &pair)
	fmt.Println(errors.Is(err, itsdangerous.ErrExpired), errors.Is(err, itsdangerous.ErrInvalid))

	_, err = s.Decode(token[:len(token)-1]+"x", &pair)
	fmt.Println(errors.Is(err, itsdangerous.ErrBadSignature), errors.Is(err, itsdangerous.ErrInvalid))
	// Output:
	// [user-7 d1f0] <nil>
	// true false
	// true true
}

// ExampleSerializer_Unsign reads a payload of its own format without
// allocating: Unsign checks the token, AppendPayload decodes the payload
// into a buffer on the stack.
func ExampleSerializer_Unsign() {
	s, _ := itsdangerous.New([]byte("secret-key"), itsdangerous.Config{Now: exampleClock})
	token := s.Sign([]byte("user-7:d1f0"))

	segment, issued, err := s.Unsign(token)
	if err != nil {
		panic(err)
	}
	var buf [64]byte
	payload, err := s.AppendPayload(buf[:0], segment)
	fmt.Printf("%s %s %v\n", payload, issued.UTC().Format(time.RFC3339), err)
	// Output:
	// user-7:d1f0 2024-05-01T12:00:00Z <nil>
}

// ExampleInspect shows what a token holds without any key. Never trust
// it: the signature is not checked.
func ExampleInspect() {
	payload, issued, err := itsdangerous.Inspect("eyJpZCI6NDJ9.ZjIuwA.not-checked")
	fmt.Printf("%s %s %v\n", payload, issued.UTC().Format(time.RFC3339), err)
	// Output:
	// {"id":42} 2024-05-01T12:00:00Z <nil>
}
