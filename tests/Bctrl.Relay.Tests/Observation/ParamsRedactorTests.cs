using System.Text;
using System.Text.Json;
using Bctrl.Relay.Observation;

namespace Bctrl.Relay.Tests.Observation;

/// <summary>
/// <see cref="ParamsRedactor"/>: what of a command's parameters may be stored when storing them is on (issue 4, item 2:
/// sensitive ones keep their size only).
/// </summary>
public sealed class ParamsRedactorTests
{
    private const string Canary = "canary-5e1f-secret";

    /// <summary>The methods issue 4 names (typed text, cookies, headers, scripts and their arguments, bodies) and their close kin.</summary>
    public static TheoryData<string, string> NamedByTheIssue => new()
    {
        { "Input.insertText", $$$"""{"text":"{{{Canary}}}"}""" },
        { "Input.dispatchKeyEvent", $$$"""{"type":"keyDown","text":"{{{Canary}}}","key":"c"}""" },
        { "Network.setCookie", $$$"""{"name":"sid","value":"{{{Canary}}}","url":"http://127.0.0.1/"}""" },
        { "Network.setCookies", $$$"""{"cookies":[{"name":"sid","value":"{{{Canary}}}","domain":"127.0.0.1"}]}""" },
        { "Storage.setCookies", $$$"""{"cookies":[{"name":"sid","value":"{{{Canary}}}","domain":"127.0.0.1"}]}""" },
        { "Network.setExtraHTTPHeaders", $$$"""{"headers":{"Authorization":"Bearer {{{Canary}}}"}}""" },
        { "Runtime.evaluate", $$$"""{"expression":"login('{{{Canary}}}')"}""" },
        { "Runtime.callFunctionOn", $$$"""{"functionDeclaration":"(p) => p","arguments":[{"value":"{{{Canary}}}"}]}""" },
        { "Fetch.fulfillRequest", $$$"""{"requestId":"1","responseCode":200,"body":"{{{Canary}}}"}""" },
        { "Fetch.continueRequest", $$$"""{"requestId":"1","postData":"{{{Canary}}}"}""" },
        { "Fetch.continueWithAuth", $$$"""{"requestId":"1","authChallengeResponse":{"response":"ProvideCredentials","password":"{{{Canary}}}"}}""" },
        { "Page.addScriptToEvaluateOnNewDocument", $$$"""{"source":"window.key='{{{Canary}}}'"}""" },
        { "Page.setDocumentContent", $$$"""{"frameId":"F","html":"<p>{{{Canary}}}</p>"}""" },
        { "DOM.setFileInputFiles", $$$"""{"files":["/home/u/{{{Canary}}}.pdf"]}""" },
    };

    /// <summary>
    /// Other commands that carry secrets in their parameters: a private key, a card number, a stored token, dragged
    /// text, an extension's storage, a cookie sent whole to be deleted, and a whole inner command (the flat-mode-off
    /// way to send any command above).
    /// </summary>
    public static TheoryData<string, string> AlsoSecretBearing => new()
    {
        { "WebAuthn.addCredential", $$$"""{"authenticatorId":"A","credential":{"credentialId":"Y3JlZA==","isResidentCredential":false,"privateKey":"{{{Canary}}}","signCount":0}}""" },
        { "Autofill.trigger", $$$"""{"fieldId":1,"card":{"number":"{{{Canary}}}","name":"A B","expiryMonth":"01","expiryYear":"2030","cvc":"123"}}""" },
        { "DOMStorage.setDOMStorageItem", $$$"""{"storageId":{"securityOrigin":"http://127.0.0.1","isLocalStorage":true},"key":"token","value":"{{{Canary}}}"}""" },
        { "Input.dispatchDragEvent", $$$"""{"type":"drop","x":1,"y":1,"data":{"items":[{"mimeType":"text/plain","data":"{{{Canary}}}"}],"dragOperationsMask":1}}""" },
        { "Extensions.setStorageItems", $$$"""{"id":"ext","storageArea":"local","values":{"token":"{{{Canary}}}"}}""" },
        // PuppeteerSharp's SetCookieAsync first deletes the cookie it sets, sending it whole, value included.
        { "Network.deleteCookies", $$$"""{"name":"sid","value":"{{{Canary}}}","url":"http://127.0.0.1/"}""" },
        { "Target.sendMessageToTarget", $$$"""{"targetId":"T","message":"{\"id\":1,\"method\":\"Input.insertText\",\"params\":{\"text\":\"{{{Canary}}}\"}}"}""" },
    };

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(NamedByTheIssue))]
    public async Task The_methods_the_issue_names_keep_only_their_size(string method, string parameters)
        => await AssertRedactedAsync(method, parameters);

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(AlsoSecretBearing))]
    public async Task Other_secret_bearing_methods_keep_only_their_size(string method, string parameters)
        => await AssertRedactedAsync(method, parameters);

    [Theory(Timeout = 10_000)]
    [InlineData("Page.navigate", """{"url":"http://127.0.0.1:5000/noise?seed=1","transitionType":"typed"}""")]
    [InlineData("Target.createTarget", """{"url":"about:blank"}""")]
    [InlineData("Input.dispatchMouseEvent", """{"type":"mousePressed","x":10.5,"y":20,"button":"left","clickCount":1}""")]
    [InlineData("Page.enable", "{}")]
    [InlineData("Emulation.setDeviceMetricsOverride", """{"width":800,"height":600,"deviceScaleFactor":1,"mobile":false,"label":"ü ✓"}""")]
    public async Task Other_methods_keep_their_parameters_as_sent(string method, string parameters)
    {
        await Task.Yield();

        Assert.False(ParamsRedactor.IsSensitive(method));
        Assert.Equal(parameters, ParamsRedactor.Redact(method, Encoding.UTF8.GetBytes(parameters)));
    }

    [Theory(Timeout = 10_000)]
    [InlineData("input.insertText")]
    [InlineData("Input.insertText ")]
    [InlineData("Input")]
    public async Task Unknown_methods_near_misses_included_keep_only_their_size(string method)
    {
        // The redactor allows known-safe methods only: anything it does not know is treated as sensitive.
        await Task.Yield();

        Assert.True(ParamsRedactor.IsSensitive(method));
    }

    private static async Task AssertRedactedAsync(string method, string parameters)
    {
        await Task.Yield();
        var bytes = Encoding.UTF8.GetBytes(parameters);

        var stored = ParamsRedactor.Redact(method, bytes);

        Assert.True(ParamsRedactor.IsSensitive(method), $"{method} is not treated as sensitive");
        Assert.DoesNotContain(Canary, stored, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(stored);
        Assert.True(json.RootElement.GetProperty("redacted").GetBoolean());
        Assert.Equal(bytes.Length, json.RootElement.GetProperty("bytes").GetInt32());
        Assert.Equal(2, json.RootElement.EnumerateObject().Count());
    }
}
