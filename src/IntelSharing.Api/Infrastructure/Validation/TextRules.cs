using System.Globalization;
using System.Text;
using FluentValidation;

namespace IntelSharing.Api.Infrastructure.Validation;

/// <summary>
/// What free text in a request may contain. Control characters (U+0000–U+001F, U+007F–U+009F) are refused, except
/// line breaks and tabs in multi-line text. So are Unicode format characters (category Cf): bidirectional overrides
/// and isolates (U+202A–U+202E, U+2066–U+2069), the direction marks U+200E, U+200F and U+061C, zero-width space
/// U+200B, word joiner U+2060, U+FEFF, soft hyphen, invisible operators and tag characters. They are invisible, or
/// reorder what a reader sees (a title that reads "Horgoš" on screen can hold other text), and a partner's analyst
/// must read what was sent. Zero-width non-joiner U+200C and zero-width joiner U+200D stay allowed: Persian and
/// Pashto names (ZWNJ), Indic scripts and emoji sequences (ZWJ) need them to be spelt correctly, and neither
/// changes the order of the text.
/// </summary>
public static class TextRules
{
    private const char ZeroWidthNonJoiner = '\u200C';
    private const char ZeroWidthJoiner = '\u200D';

    /// <summary>Text on one line: no control characters at all, no invisible format characters.</summary>
    public static IRuleBuilderOptions<T, string?> SingleLineText<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(value => FindRefused(value, allowLineBreaks: false) is null)
            .WithMessage((_, value) => Describe(value, allowLineBreaks: false));

    /// <summary>Text that may span lines: line feeds, carriage returns and tabs allowed; otherwise as <see cref="SingleLineText{T}"/>.</summary>
    public static IRuleBuilderOptions<T, string?> MultiLineText<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(value => FindRefused(value, allowLineBreaks: true) is null)
            .WithMessage((_, value) => Describe(value, allowLineBreaks: true));

    /// <summary>The first refused character in <paramref name="value"/> and its position (in UTF-16 units), or null.</summary>
    public static (Rune Rune, int Index)? FindRefused(string? value, bool allowLineBreaks)
    {
        if (value is null)
        {
            return null;
        }

        var index = 0;
        foreach (var rune in value.EnumerateRunes())
        {
            if (IsRefused(rune, allowLineBreaks))
            {
                return (rune, index);
            }

            index += rune.Utf16SequenceLength;
        }

        return null;
    }

    private static bool IsRefused(Rune rune, bool allowLineBreaks)
    {
        if (Rune.IsControl(rune))
        {
            return !(allowLineBreaks && rune.Value is '\n' or '\r' or '\t');
        }

        return Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format && rune.Value is not (ZeroWidthNonJoiner or ZeroWidthJoiner);
    }

    private static string Describe(string? value, bool allowLineBreaks)
    {
        var allowed = allowLineBreaks ? "control characters other than line breaks and tabs" : "control characters";
        var found = FindRefused(value, allowLineBreaks) is { } hit
            ? string.Create(CultureInfo.InvariantCulture, $" (found U+{hit.Rune.Value:X4} at position {hit.Index})")
            : string.Empty;
        return $"'{{PropertyName}}' must not contain {allowed} or invisible formatting characters such as bidirectional overrides and zero-width spaces{found}.";
    }
}
