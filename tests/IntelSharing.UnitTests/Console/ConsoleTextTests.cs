using System.Text.RegularExpressions;
using IntelSharing.Api.Features.WebConsole;
using Microsoft.AspNetCore.Http;

namespace IntelSharing.UnitTests.Console;

public sealed partial class ConsoleTextTests
{
    [Fact]
    public void Serbian_and_English_have_a_label_for_the_same_keys()
    {
        var english = ConsoleText.All[ConsoleText.English].Keys.Order(StringComparer.Ordinal).ToList();
        var serbian = ConsoleText.All[ConsoleText.Serbian].Keys.Order(StringComparer.Ordinal).ToList();

        Assert.Equal(english, serbian);
        Assert.All(ConsoleText.All.Values.SelectMany(labels => labels.Values), label => Assert.False(string.IsNullOrWhiteSpace(label)));
    }

    [Fact]
    public void Every_label_a_page_asks_for_exists()
    {
        var folder = Path.Combine(RepositoryRoot(), "src", "IntelSharing.Api", "Features", "WebConsole");
        var used = Directory.EnumerateFiles(folder, "*.cshtml", SearchOption.AllDirectories)
            .SelectMany(file => Label().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

        Assert.True(used.Count > 50, $"only {used.Count} labels found in {folder}");
        var missing = used.Where(key => !ConsoleText.All[ConsoleText.English].ContainsKey(key)).ToList();
        Assert.True(missing.Count == 0, "Labels without a text: " + string.Join(", ", missing));
    }

    [Theory]
    [InlineData(null, null, "en")]
    [InlineData("sr-Latn-RS,sr;q=0.9,en;q=0.8", null, "sr")]
    [InlineData("de-DE,en;q=0.9,sr;q=0.8", null, "en")]
    [InlineData("hr-HR", null, "sr")]
    [InlineData("fr-FR", null, "en")]
    [InlineData("en;q=0.2,sr;q=0.9", null, "sr")]
    [InlineData("sr", "en", "en")]
    [InlineData("en", "xx", "en")]
    public void The_language_is_the_switch_else_the_best_accepted_else_English(string? acceptLanguage, string? cookie, string expected)
    {
        var context = new DefaultHttpContext();
        if (acceptLanguage is not null)
        {
            context.Request.Headers.AcceptLanguage = acceptLanguage;
        }

        if (cookie is not null)
        {
            context.Request.Headers.Cookie = $"{ConsoleText.CookieName}={cookie}";
        }

        Assert.Equal(expected, ConsoleText.Choose(context));
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "IntelSharing.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root was not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("""T\["([A-Za-z.]+)"\]""")]
    private static partial Regex Label();
}
