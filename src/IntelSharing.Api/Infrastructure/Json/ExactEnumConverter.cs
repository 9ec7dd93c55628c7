using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace IntelSharing.Api.Infrastructure.Json;

/// <summary>
/// Enums as their wire names (snake_case, or <see cref="JsonStringEnumMemberNameAttribute"/> where the domain spells
/// them otherwise), read back only when spelled exactly so. <see cref="JsonStringEnumConverter"/> reads
/// case-insensitively and trims spaces, so "AMBER" and " amber" would be accepted as amber: spellings the contract
/// does not define, which a client would start to rely on and other consumers (STIX export, filters) would not know.
/// </summary>
public sealed class ExactEnumConverter : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert))!;

    private sealed class Converter<T> : JsonConverter<T>
        where T : struct, Enum
    {
        private static readonly FrozenDictionary<T, string> Names = Enum.GetValues<T>().ToFrozenDictionary(value => value, NameOf);
        private static readonly FrozenDictionary<string, T> Values = Names.ToFrozenDictionary(pair => pair.Value, pair => pair.Key, StringComparer.Ordinal);

        private static readonly string Allowed = string.Join(", ", Names.Values);

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String ? Parse(reader.GetString()) : throw new NotAnAllowedValueException(null, Allowed);

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(NameFor(value));

        public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Parse(reader.GetString());

        public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WritePropertyName(NameFor(value));

        // System.Text.Json adds the property's path; the problem handler names the field and lists what is allowed.
        private static T Parse(string? text) => text is not null && Values.TryGetValue(text, out var value) ? value : throw new NotAnAllowedValueException(text, Allowed);

        private static string NameFor(T value) =>
            Names.TryGetValue(value, out var name) ? name : throw new JsonException($"{typeof(T).Name} has no value {value}.");

        private static string NameOf(T value)
        {
            var field = typeof(T).GetField(value.ToString(), BindingFlags.Public | BindingFlags.Static)!;
            return field.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(field.Name);
        }
    }
}

/// <summary>
/// An enum property holds a value outside its closed set. The message is written for the client (it lists the wire
/// names), so the problem handler can pass it on beside the field, as query parameter errors already do.
/// </summary>
public sealed class NotAnAllowedValueException : JsonException
{
    /// <summary>Longer values are cut in the message: the client sent them, it does not need them back whole.</summary>
    private const int MaxEcho = 40;

    public NotAnAllowedValueException()
    {
    }

    public NotAnAllowedValueException(string? message)
        : base(message)
    {
    }

    public NotAnAllowedValueException(string? message, Exception? innerException)
        : base(message, innerException)
    {
    }

    internal NotAnAllowedValueException(string? received, string allowed)
        : base(Describe(received, allowed))
    {
    }

    private static string Describe(string? received, string allowed) => received switch
    {
        null => $"The value must be one of: {allowed}.",
        _ when received.Length > MaxEcho || received.Any(char.IsControl) => $"The value is not one of the allowed values: {allowed}.",
        _ => $"'{received}' is not one of the allowed values: {allowed}.",
    };
}
