using System.Collections.Concurrent;
using System.Text.Json;

namespace IntelSharing.Api.Infrastructure.Json;

/// <summary>The JSON spelling of an enum value (e.g. <c>amber+strict</c>), which is also how it is stored in columns.</summary>
public static class WireNames
{
    private static readonly ConcurrentDictionary<Enum, string> Cache = new();

    public static string Of<T>(T value)
        where T : struct, Enum =>
        Cache.GetOrAdd(value, v => JsonSerializer.Serialize((T)v, JsonDefaults.Options).Trim('"'));

    public static bool TryParse<T>(string? text, out T value)
        where T : struct, Enum
    {
        value = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        try
        {
            value = JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(text), JsonDefaults.Options);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public static IEnumerable<string> All<T>()
        where T : struct, Enum => Enum.GetValues<T>().Select(v => Of(v));
}
