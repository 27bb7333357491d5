package passhash_test

import (
	"errors"
	"fmt"

	"github.com/authkit/auth/passhash"
)

func ExampleIdentify() {
	for _, h := range []string{
		"$2b$04$iL/dfw7LN8UBrZWfE68F2uwxyq.z0T7gJTgZkNe7BD05/5w9YyaYO",
		"$argon2id$v=19$m=8192,t=1,p=1$9b43xpgzRgjhXIsxRmhtjQ$qPJRtsEXCRbDGPnV7sD6ZQ",
		"$pbkdf2-sha512$1000$LaU0Zqy1llIqhXDuPQeAEA$9JRy9X5/VXv9nrOsCCtEV3RljEXCh1CfTTEdIeC4UKBiP2DdNGKkVts98oI2kOEFT5ueSa6810PCoHOVUBf6Tg",
		"$6$rounds=1000$LtF0oZdsZeIyfDbY$ESFnMJbcf7fjqaHDNLJqbNiw7kOGZHrJhgzZGEyn8iFFS8NMLKE52e8GBTh2Q.gJGscvrignN0WFUNCNM.eQJ0",
		"$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",
	} {
		fmt.Printf("%q\n", passhash.Identify(h))
	}
	// Output:
	// "bcrypt"
	// "argon2id"
	// "pbkdf2_sha512"
	// "sha512_crypt"
	// ""
}

func ExampleVerify() {
	// A pbkdf2_sha512 hash of "test123" made by passlib at 1000 rounds.
	const stored = "$pbkdf2-sha512$1000$LaU0Zqy1llIqhXDuPQeAEA$9JRy9X5/VXv9nrOsCCtEV3RljEXCh1CfTTEdIeC4UKBiP2DdNGKkVts98oI2kOEFT5ueSa6810PCoHOVUBf6Tg"
	fmt.Println(passhash.Verify(stored, "test123"))
	fmt.Println(errors.Is(passhash.Verify(stored, "test124"), passhash.ErrMismatch))
	fmt.Println(passhash.Verify("$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", "test123"))
	// Output:
	// <nil>
	// true
	// passhash: unsupported password hash: scheme "1"
}

func ExampleHasher() {
	h := passhash.Hasher{Scheme: passhash.Argon2id, Argon2: passhash.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}}
	encoded, err := h.Hash("correct horse")
	if err != nil {
		panic(err)
	}
	needsRehash, err := h.Verify(encoded, "correct horse")
	fmt.Println(err == nil, needsRehash)
	_, err = h.Verify(encoded, "battery staple")
	fmt.Println(errors.Is(err, passhash.ErrMismatch))

	// A stronger policy wants the hash replaced on the next login.
	stronger := h
	stronger.Argon2.Time = 2
	fmt.Println(stronger.NeedsRehash(encoded))
	// Output:
	// true false
	// true
	// true
}

func ExampleHasher_Verify() {
	// A bcrypt hash at cost 4, verified under a policy of SHA-512 crypt:
	// it matches, and needs to be rewritten in the policy's scheme.
	const stored = "$2b$04$iL/dfw7LN8UBrZWfE68F2uwxyq.z0T7gJTgZkNe7BD05/5w9YyaYO"
	h := passhash.Hasher{Scheme: passhash.SHA512Crypt, Rounds: 5000}
	needsRehash, err := h.Verify(stored, "test123")
	fmt.Println(err, needsRehash)
	if err == nil && needsRehash {
		fresh, _ := h.Hash("test123")
		fmt.Println(passhash.Identify(fresh), h.NeedsRehash(fresh))
	}
	// Output:
	// <nil> true
	// sha512_crypt false
}
