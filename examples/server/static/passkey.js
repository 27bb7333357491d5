// Passkeys on the example's pages (pages_passkeys.go): the account page's
// "Add a passkey" form, and the login page's "Sign in with a passkey" and
// "Use your passkey" buttons. The pages work without this script, less
// these forms, which it shows only where the browser has WebAuthn's JSON
// methods. It speaks the account handler's JSON under /auth/: the options
// of the begin step go to PublicKeyCredential.parse…OptionsFromJSON, and
// the credential's toJSON(), as a JSON string, to the finish step.
"use strict";

(() => {
  const supported =
    typeof PublicKeyCredential === "function" &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";

  // post sends body to path on this site, with the session's cookies, and
  // returns the status and the "response" of the library's JSON envelope.
  async function post(path, body, headers) {
    const res = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", ...headers },
      body,
    });
    let response = {};
    try {
      response = (await res.json()).response || {};
    } catch {
      // not the library's JSON: the status tells
    }
    return { status: res.status, response };
  }

  // postJSON posts value as JSON, with the session's CSRF token if given.
  function postJSON(path, value, csrf) {
    const headers = { "Content-Type": "application/json" };
    if (csrf) {
      headers["X-CSRF-Token"] = csrf;
    }
    return post(path, JSON.stringify(value), headers);
  }

  // problem is the text for a refused answer: the library's own texts,
  // else one by its status.
  function problem(answer) {
    const errors = answer.response.errors;
    if (Array.isArray(errors) && errors.length > 0) {
      return errors.join(" ");
    }
    if (answer.status === 429) {
      return "Too many requests for now. Wait a while, then try again.";
    }
    return "The passkey could not be used for a moment. Try again shortly.";
  }

  // ceremonyProblem is the text for a failed navigator.credentials call.
  function ceremonyProblem(err) {
    switch (err && err.name) {
      case "NotAllowedError":
        return "No passkey was used: the request was cancelled or timed out. Try again.";
      case "InvalidStateError":
        return "This authenticator already holds a passkey of your account.";
      case "SecurityError":
        return "Passkeys do not work at this address: open the site at the address its server names.";
      default:
        return "The browser could not use a passkey.";
    }
  }

  // show announces text in the alert el.
  function show(el, text) {
    el.setAttribute("role", "alert");
    el.textContent = text;
    el.hidden = false;
  }

  // busy runs task with the form's buttons disabled, showing the text of
  // any failure in el.
  async function busy(form, el, task) {
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    el.hidden = true;
    try {
      const text = await task();
      if (text) {
        show(el, text);
      }
    } catch {
      show(el, "The server could not be reached. Try again shortly.");
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  // register adds a passkey from the account page's form: POST
  // /auth/wan-register {name, usage} (it needs a fresh login: a stale one
  // goes to the login form), navigator.credentials.create, POST
  // /auth/wan-register/{wan_state} {credential}. It returns the text of a
  // failure, or "" once the browser is on its way to the account page.
  async function register(form) {
    const csrf = form.querySelector("input[name=csrf_token]").value;
    const usage = form.querySelector("input[name=usage]:checked");
    const begin = await postJSON(
      "/auth/wan-register",
      { name: form.querySelector("input[name=name]").value, usage: usage ? usage.value : "" },
      csrf,
    );
    if (begin.status === 401 && begin.response.reauth_required) {
      location.assign(form.dataset.reauth);
      return "";
    }
    if (begin.status !== 200) {
      return problem(begin);
    }
    let credential;
    try {
      credential = await navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(begin.response.credential_options),
      });
    } catch (err) {
      return ceremonyProblem(err);
    }
    const done = await postJSON(
      "/auth/wan-register/" + encodeURIComponent(begin.response.wan_state),
      { credential: JSON.stringify(credential.toJSON()) },
      csrf,
    );
    if (done.status !== 200) {
      return problem(done);
    }
    location.assign("/account?status=passkey-added");
    return "";
  }

  // signIn signs in from one of the login page's passkey forms: POST
  // /auth/wan-signin, navigator.credentials.get, and then the form itself,
  // with the credential, posts to /auth/wan-signin/{wan_state}, so that
  // the session begins and the browser goes on to the form's next. The
  // second factor's form begins with an url-encoded post, for which the
  // library reads the password step's state from its HttpOnly cookie; the
  // passwordless one with JSON, which names no user.
  async function signIn(form) {
    let begin;
    if (form.dataset.step === "second") {
      const fields = new URLSearchParams({ csrf_token: form.querySelector("input[name=csrf_token]").value });
      begin = await post("/auth/wan-signin", fields, { "Content-Type": "application/x-www-form-urlencoded" });
    } else {
      begin = await postJSON("/auth/wan-signin", {});
    }
    if (begin.status !== 200) {
      return problem(begin);
    }
    let credential;
    try {
      credential = await navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(begin.response.credential_options),
      });
    } catch (err) {
      return ceremonyProblem(err);
    }
    form.querySelector("input[name=credential]").value = JSON.stringify(credential.toJSON());
    const remember = document.getElementById("remember");
    const field = form.querySelector("input[name=remember]");
    if (field && remember && remember.checked) {
      field.value = "on";
    }
    form.action = "/auth/wan-signin/" + encodeURIComponent(begin.response.wan_state);
    form.submit();
    return "";
  }

  // Each passkey form: shown where the browser can use it, its note for
  // other browsers hidden, and its submission done by the script.
  for (const form of document.querySelectorAll("form.passkey")) {
    if (!supported) {
      continue;
    }
    const note = document.getElementById(form.dataset.note || "");
    if (note) {
      note.hidden = true;
    }
    form.hidden = false;
    const error = document.getElementById(form.dataset.error);
    const task = form.dataset.step === "register" ? register : signIn;
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      busy(form, error, () => task(form));
    });
  }
})();
