// The single-page app of examples/spa: it logs in to the example server's
// API on another origin with JSON, keeps the token in sessionStorage and
// sends it in the Authentication-Token header; no cookie is involved
// (credentials: "omit"), so the API needs CORS (-cors-origin) and no CSRF
// token. With refresh tokens on (the server's -schema native) it trades the
// refresh token for a new pair at POST /auth/refresh-token when the API
// answers 401, and retries the request once. The API's origin comes from
// the page's <meta name="api-origin">; the page's CSP lets it connect there
// and nowhere else.
"use strict";

(() => {
  const api = document.querySelector('meta[name="api-origin"]').content;
  // sessionStorage: the tokens live as long as this tab, and other tabs and
  // origins do not see them. The device token is no credential (it only
  // spares this browser the lock-outs that others' failed logins cause) and
  // lasts as a cookie would, in localStorage.
  const TOKEN = "authkit.token";
  const REFRESH = "authkit.refresh_token";
  const DEVICE = "authkit.device_token";
  const DEVICE_HEADER = "Auth-Device-Token";

  const $ = (id) => document.getElementById(id);

  // NetworkError is a request that got no answer the page may read: the
  // API is down, or it does not allow this page's origin (CORS).
  class NetworkError extends Error {}

  // request sends one request to the API and returns its status, JSON body
  // (null if none) and headers.
  async function request(method, path, { token, json, device } = {}) {
    const headers = { Accept: "application/json" };
    if (token) headers["Authentication-Token"] = token;
    if (device) headers[DEVICE_HEADER] = device;
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    let resp;
    try {
      resp = await fetch(api + path, {
        method, headers, body, mode: "cors", credentials: "omit", cache: "no-store", redirect: "error",
      });
    } catch (e) {
      throw new NetworkError(`Could not reach the API at ${api}: it is not running, or it does not ` +
        `allow this page's origin (start it with -cors-origin ${location.origin}).`);
    }
    let data = null;
    try {
      data = await resp.json();
    } catch (e) {
      // not JSON: messages() says what the status was
    }
    return { status: resp.status, data, headers: resp.headers };
  }

  // messages returns the texts of an error answer: Flask-Security's
  // envelope {"meta":{"code":…},"response":{"errors":[…],"field_errors":{…}}}.
  function messages(r) {
    const response = (r.data && r.data.response) || {};
    const out = Array.isArray(response.errors) ? response.errors.filter((m) => typeof m === "string") : [];
    const fields = response.field_errors && typeof response.field_errors === "object" ? response.field_errors : {};
    for (const [field, errs] of Object.entries(fields)) {
      for (const m of [].concat(errs)) {
        if (typeof m === "string" && !out.includes(m)) out.push(`${field}: ${m}`);
      }
    }
    if (out.length === 0) out.push(`The API answered ${r.status}.`);
    return out;
  }

  function fieldErrors(r) {
    const response = (r.data && r.data.response) || {};
    return response.field_errors && typeof response.field_errors === "object" ? response.field_errors : {};
  }

  function showError(texts) {
    const box = $("error");
    box.replaceChildren(...texts.map((t) => {
      const p = document.createElement("p");
      p.textContent = t;
      return p;
    }));
    box.hidden = texts.length === 0;
  }

  function showStatus(text) {
    $("status").textContent = text;
  }

  // keep stores the tokens of a login or refresh answer's user.
  function keep(user) {
    sessionStorage.setItem(TOKEN, user.authentication_token);
    if (user.refresh_token) {
      sessionStorage.setItem(REFRESH, user.refresh_token);
    } else {
      sessionStorage.removeItem(REFRESH);
    }
  }

  function forget() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(REFRESH);
  }

  // refresh trades the refresh token for a new pair, once at a time: calls
  // that fail together wait for the same refresh. It reports whether the
  // page holds a new token.
  let refreshing = null;
  function refresh() {
    if (!refreshing) {
      refreshing = (async () => {
        const r = await request("POST", "/auth/refresh-token", { json: { refresh_token: sessionStorage.getItem(REFRESH) } });
        const user = r.status === 200 && r.data && r.data.response && r.data.response.user;
        if (!user || !user.authentication_token) return false;
        keep(user);
        showStatus("The access token was refreshed.");
        return true;
      })().finally(() => { refreshing = null; });
    }
    return refreshing;
  }

  // authed sends a request with the token; on 401, with a refresh token,
  // it refreshes and retries once.
  async function authed(method, path, json) {
    let r = await request(method, path, { token: sessionStorage.getItem(TOKEN), json });
    if (r.status === 401 && sessionStorage.getItem(REFRESH) && await refresh()) {
      r = await request(method, path, { token: sessionStorage.getItem(TOKEN), json });
    }
    return r;
  }

  function showLogin() {
    $("app-view").hidden = true;
    $("login-view").hidden = false;
    $("whoami").textContent = "";
  }

  function showApp() {
    $("login-view").hidden = true;
    $("app-view").hidden = false;
  }

  // busy disables the page's buttons while fn runs, and shows what it
  // throws.
  async function busy(fn) {
    const buttons = document.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await fn();
    } catch (e) {
      showError([e instanceof NetworkError ? e.message : `Unexpected error: ${e}`]);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  async function whoami() {
    const r = await authed("GET", "/protected");
    if (r.status === 200 && r.data) {
      $("whoami").textContent = `${r.data.message} (user ${r.data.id})`;
      return;
    }
    if (r.status === 401) {
      forget();
      showLogin();
      showError(["Your session has ended: log in again.", ...messages(r)]);
      return;
    }
    showError(messages(r));
  }

  async function login() {
    const email = $("email");
    const password = $("password");
    showError([]);
    showStatus("");
    for (const input of [email, password]) input.removeAttribute("aria-invalid");
    const r = await request("POST", "/login", {
      json: { email: email.value, password: password.value },
      device: localStorage.getItem(DEVICE),
    });
    // Readable only because the API exposes it (Access-Control-Expose-Headers).
    const device = r.headers.get(DEVICE_HEADER);
    if (device) localStorage.setItem(DEVICE, device);
    const response = (r.data && r.data.response) || {};
    if (r.status === 200 && response.tf_required) {
      showError(["This account asks for a second factor, which this example page does not do: " +
        "log in on the API's own /login page."]);
      return;
    }
    if (r.status !== 200 || !response.user || !response.user.authentication_token) {
      for (const field of Object.keys(fieldErrors(r))) {
        if (field === "email" || field === "password") $(field).setAttribute("aria-invalid", "true");
      }
      password.value = "";
      showError(messages(r));
      return;
    }
    keep(response.user);
    password.value = "";
    showApp();
    await whoami();
  }

  async function logout() {
    showError([]);
    const r = await authed("POST", "/logout");
    // Forget the tokens whatever the answer: this tab is logged out.
    forget();
    showLogin();
    if (r.status === 200) {
      showStatus("You are logged out: every token of this account has stopped working.");
    } else {
      showStatus("");
      showError(["The API did not confirm the logout.", ...messages(r)]);
    }
  }

  $("page-origin").textContent = location.origin;
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault(); // the page posts JSON itself; the CSP's form-action 'none' would refuse the form
    busy(login);
  });
  $("reload").addEventListener("click", () => busy(() => { showError([]); showStatus(""); return whoami(); }));
  $("logout").addEventListener("click", () => busy(() => logout().catch((e) => { forget(); showLogin(); throw e; })));

  if (sessionStorage.getItem(TOKEN)) {
    showApp();
    busy(whoami);
  } else {
    showLogin();
  }
})();
