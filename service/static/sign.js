// The signing page's one script: sign the document with NCALayer, post the CMS to qujat.
//
// NCALayer listens on a WebSocket (wss://127.0.0.1:13579/ on the signer's computer) and
// greets each connection with {"result": {"version": …}}. Its `kz.gov.pki.knca.basics`
// module signs with
//   {"module": "kz.gov.pki.knca.basics", "method": "sign", "args": {"allowedStorages": […],
//    "format": "cms", "data": "<base64>", "signingParams": {"decode": true,
//    "encapsulate": false, "digested": false, "tsaProfile": {}}, "signerParams":
//    {"extKeyUsageOids": […], "iin": "…", "chain": []}, "locale": "kk"}}
// and answers {"status": true, "body": {"result": ["<base64 CMS>"]}}, {"status": true,
// "body": {}} when the user closed its window, or {"status": false, "code": "500",
// "details": "…"}. NCALayer without that module (older installations) answers
// {"code": "500", "message": "…"} to it; then the page falls back to the older commonUtils
// call createCMSSignatureFromBase64 ["PKCS12", "SIGNATURE", data, false], answered with
// {"code": "200", "responseObject": "<base64 CMS>"} or {"code": "500", "message":
// "action.canceled"}. This is the format public NCALayer clients use (e.g. the knca basics
// samples and sadshade/FCALayer, a stand-in NCALayer in Python).
(function () {
  "use strict";
  var button = document.getElementById("sign");
  var result = document.getElementById("result");
  if (!button || !result) { return; }
  var data = button.dataset;
  button.hidden = false;
  var SIGNING_KEY_USAGE = "1.3.6.1.5.5.7.3.4"; // NCA signing keys; authentication: …3.2

  function show(text, kind) {
    result.textContent = text;
    result.className = kind || "";
  }

  function base64Of(buffer) {
    var bytes = new Uint8Array(buffer), text = "", chunk = 0x8000;
    for (var i = 0; i < bytes.length; i += chunk) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
    }
    return btoa(text);
  }

  function markSigned(names) {
    var items = document.querySelectorAll("#signers li");
    for (var i = 0; i < items.length; i += 1) {
      if (names.indexOf(items[i].dataset.name) >= 0) {
        items[i].className = "signed";
        items[i].querySelector(".state").textContent = data.textHasSigned;
      }
    }
  }

  function Cancelled() {}
  function NcaLayerError(details) { this.details = details; }
  function Absent() {}

  // One conversation with NCALayer: resolve with the CMS (base64).
  function signWithNcaLayer(content) {
    return new Promise(function (resolve, reject) {
      var socket, greeted = false, fallback = false, opened = false;
      try {
        socket = new WebSocket(data.ncalayer);
      } catch (error) {
        reject(new Absent());
        return;
      }
      function send(message) { socket.send(JSON.stringify(message)); }
      function basics() {
        send({
          module: "kz.gov.pki.knca.basics", method: "sign",
          args: {
            allowedStorages: ["PKCS12", "AKKaztokenStore", "AKKZIDCardStore", "AKEToken"],
            format: "cms", data: content,
            signingParams: { decode: true, encapsulate: false, digested: false, tsaProfile: {} },
            signerParams: { extKeyUsageOids: [SIGNING_KEY_USAGE], iin: data.iin, chain: [] },
            locale: data.lang
          }
        });
      }
      function commonUtils() {
        fallback = true;
        send({ module: "kz.gov.pki.knca.commonUtils", method: "createCMSSignatureFromBase64",
               args: ["PKCS12", "SIGNATURE", content, false] });
      }
      socket.onopen = function () { opened = true; };
      socket.onerror = function () { if (!opened) { reject(new Absent()); } };
      socket.onclose = function () { if (!opened) { reject(new Absent()); } };
      socket.onmessage = function (event) {
        var answer;
        try { answer = JSON.parse(event.data); } catch (error) {
          reject(new NcaLayerError("?")); socket.close(); return;
        }
        if (!greeted && answer.result && answer.result.version !== undefined) {
          greeted = true; basics(); return;
        }
        if (!greeted) { greeted = true; basics(); }
        var done = function (value) { socket.close(); resolve(value); };
        var fail = function (error) { socket.close(); reject(error); };
        if (!fallback) {
          if (answer.status === true) {
            var found = answer.body && answer.body.result;
            if (found === undefined || found === null) { fail(new Cancelled()); return; }
            done(Array.isArray(found) ? found[0] : found);
            return;
          }
          var details = String(answer.details || answer.message || "");
          if (/cancel/i.test(details)) { fail(new Cancelled()); return; }
          if (answer.status === undefined) { commonUtils(); return; }  // no basics module
          fail(new NcaLayerError(details || String(answer.code || "")));
          return;
        }
        if (String(answer.code) === "200" && answer.responseObject) {
          done(answer.responseObject); return;
        }
        var message = String(answer.message || "");
        fail(/cancel/i.test(message) ? new Cancelled() : new NcaLayerError(message));
      };
    });
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    show(data.textWorking, "working");
    fetch("/sign/" + data.token + "/document.pdf", { credentials: "omit" })
      .then(function (response) {
        if (!response.ok) { throw new TypeError("document"); }
        return response.arrayBuffer();
      })
      .then(function (buffer) { return signWithNcaLayer(base64Of(buffer)); })
      .then(function (cms) {
        return fetch("/sign/" + data.token + "?lang=" + data.lang, {
          method: "POST", credentials: "omit",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ cms: cms })
        }).then(function (response) {
          return response.json().then(function (body) {
            show(body.message, response.ok ? (body.status === "signed" ? "signed" : "accepted")
                                           : "refused");
            result.dataset.codes = (body.codes || []).join(" ");
            result.dataset.status = body.status;
            if (!response.ok) { button.disabled = false; return; }
            button.hidden = true;  // signed: nothing more to do here
            markSigned(body.signed || []);
          });
        });
      })
      .catch(function (error) {
        button.disabled = false;
        if (error instanceof Absent) {
          show(data.textNoNcalayer, "refused"); result.dataset.status = "ncalayer_absent";
        } else if (error instanceof Cancelled) {
          show(data.textCancelled, "refused"); result.dataset.status = "cancelled";
        } else if (error instanceof NcaLayerError) {
          show(data.textNcalayerError.replace("{details}", error.details), "refused");
          result.dataset.status = "ncalayer_error";
        } else {
          show(data.textNetwork, "refused"); result.dataset.status = "network";
        }
      });
  });
}());
