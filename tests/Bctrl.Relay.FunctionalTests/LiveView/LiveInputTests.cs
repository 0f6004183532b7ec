using System.Text;
using Bctrl.Relay.LiveView;

namespace Bctrl.Relay.FunctionalTests.LiveView;

/// <summary>The live view's input messages come from an untrusted page: anything but the documented shapes is refused.</summary>
public class LiveInputTests
{
    [Fact]
    public void A_click_and_a_key_are_read()
    {
        var click = LiveInput.Parse("""{"type":"mouse","event":"mousePressed","x":0.25,"y":1,"button":"left","buttons":1,"clickCount":1,"modifiers":8}"""u8);
        Assert.NotNull(click);
        Assert.False(click.IsKey);
        Assert.Equal(("mousePressed", 0.25, 1.0, "left", 1, 8), (click.Event, click.X, click.Y, click.Button, click.ClickCount, click.Modifiers));

        var key = LiveInput.Parse("""{"type":"key","event":"keyDown","key":"Enter","code":"Enter","text":"\r","keyCode":13}"""u8);
        Assert.NotNull(key);
        Assert.True(key.IsKey);
        Assert.Equal(("keyDown", "Enter", "\r", 13), (key.Event, key.Key, key.Text, key.KeyCode));
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("""{"type":"touch","event":"mouseMoved","x":0,"y":0}""")]
    [InlineData("""{"type":"mouse","event":"mouseMoved"}""")] // no position
    [InlineData("""{"type":"mouse","event":"mouseMoved","x":1.5,"y":0}""")]
    [InlineData("""{"type":"mouse","event":"mouseMoved","x":-0.1,"y":0}""")]
    [InlineData("""{"type":"mouse","event":"mouseMoved","x":"0.5","y":0}""")]
    [InlineData("""{"type":"mouse","event":"dispatchEverything","x":0,"y":0}""")]
    [InlineData("""{"type":"mouse","event":"mousePressed","x":0,"y":0,"button":"back"}""")]
    [InlineData("""{"type":"mouse","event":"mousePressed","x":0,"y":0,"clickCount":1000}""")]
    [InlineData("""{"type":"mouse","event":"mouseWheel","x":0,"y":0,"deltaY":1e300}""")]
    [InlineData("""{"type":"mouse","event":"mouseMoved","x":0,"y":0,"modifiers":16}""")]
    [InlineData("""{"type":"mouse","event":"mouseMoved","x":0,"y":0,"key":"a"}""")] // a key field on a mouse message
    [InlineData("""{"type":"mouse","event":"mouseMoved","x":0,"y":0,"extra":{"nested":1}}""")]
    [InlineData("""{"type":"key","event":"keyDown","text":"\u0000"}""")]
    [InlineData("""{"type":"key","event":"keyDown","text":"abcde"}""")]
    [InlineData("""{"type":"key","event":"keyDown","key":"\n"}""")]
    [InlineData("""{"type":"key","event":"rawKeyDown"}""")]
    [InlineData("""{"type":"key","event":"keyDown","keyCode":256}""")]
    [InlineData("""{"type":"key","event":"keyDown","x":0.5}""")] // a mouse field on a key message
    [InlineData("""{"type":"mouse","event":"mouseMoved","x":0,"y":0""")] // cut short
    public void Anything_else_is_refused(string message) => Assert.Null(LiveInput.Parse(Encoding.UTF8.GetBytes(message)));

    [Fact]
    public void A_message_over_the_limit_is_refused_unread()
    {
        var padding = new string(' ', LiveInput.MaxMessageBytes);
        Assert.Null(LiveInput.Parse(Encoding.UTF8.GetBytes("""{"type":"mouse","event":"mouseMoved","x":0,"y":0}""" + padding)));
    }
}
