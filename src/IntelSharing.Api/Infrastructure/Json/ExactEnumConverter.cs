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

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String ? Parse(reader.GetString()) : throw new JsonException();

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(NameFor(value));

        public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Parse(reader.GetString());

        public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WritePropertyName(NameFor(value));

        // A JsonException without a message makes System.Text.Json report "could not be converted" with the property's path.
        private static T Parse(string? text) => text is not null && Values.TryGetValue(text, out var value) ? value : throw new JsonException();

        private static string NameFor(T value) =>
            Names.TryGetValue(value, out var name) ? name : throw new JsonException($"{typeof(T).Name} has no value {value}.");

        private static string NameOf(T value)
        {
            var field = typeof(T).GetField(value.ToString(), BindingFlags.Public | BindingFlags.Static)!;
            return field.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(field.Name);
        }
    }
}
