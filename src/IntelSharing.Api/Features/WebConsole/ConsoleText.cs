using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.Net.Http.Headers;

namespace IntelSharing.Api.Features.WebConsole;

/// <summary>
/// The console's labels in English and Serbian (Latin script), one JSON resource per language beside this file
/// (<c>Texts/en.json</c>, <c>Texts/sr.json</c>). The language is the one the switch stored in a cookie, else the best
/// match of Accept-Language, else English. Not .NET cultures: the API runs with invariant globalization (no ICU in the
/// image), and the console shows times as ISO 8601 UTC whatever the language, as the API does.
/// </summary>
public sealed class ConsoleText(IHttpContextAccessor accessor)
{
    public const string CookieName = "intelsharing-console-lang";

    public const string English = "en";

    public const string Serbian = "sr";

    public static readonly IReadOnlyList<string> Languages = [English, Serbian];

    /// <summary>Every language's labels, read once from the embedded resources.</summary>
    public static readonly FrozenDictionary<string, FrozenDictionary<string, string>> All =
        Languages.ToFrozenDictionary(language => language, Load);

    private string? _language;

    public string Language => _language ??= Choose(accessor.HttpContext);

    /// <summary>The label for <paramref name="key"/> in this request's language (a test holds both files to the same keys).</summary>
    public string this[string key] => All[Language].TryGetValue(key, out var text) ? text : key;

    public static string Choose(HttpContext? context)
    {
        if (context is null)
        {
            return English;
        }

        if (context.Request.Cookies[CookieName] is { } chosen && Languages.Contains(chosen))
        {
            return chosen;
        }

        if (StringWithQualityHeaderValue.TryParseList(context.Request.Headers.AcceptLanguage, out var accepted))
        {
            foreach (var range in accepted.OrderByDescending(a => a.Quality ?? 1))
            {
                var primary = range.Value.Value?.Split('-')[0].ToLowerInvariant();
                if (primary is not null && Languages.Contains(primary))
                {
                    return primary;
                }

                // Serbian written in Croatian, Bosnian or Montenegrin locales is read without trouble; English is not the better guess.
                if (primary is "hr" or "bs" or "sh" or "cnr")
                {
                    return Serbian;
                }
            }
        }

        return English;
    }

    private static FrozenDictionary<string, string> Load(string language)
    {
        using var stream = typeof(ConsoleText).Assembly.GetManifestResourceStream($"IntelSharing.Api.Console.Texts.{language}.json")
            ?? throw new InvalidOperationException($"The console's {language} labels are not embedded.");
        return JsonSerializer.Deserialize<Dictionary<string, string>>(stream)!.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
