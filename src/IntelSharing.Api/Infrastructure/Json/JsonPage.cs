using System.Buffers;
using System.Text;
using System.Text.Json;

namespace IntelSharing.Api.Infrastructure.Json;

/// <summary>
/// Writes a keyset page, <c>{"items": […], "nextCursor": …}</c>, whose items hold stored documents written as stored
/// (no second serialisation of what was published).
/// </summary>
public static class JsonPage
{
    public static string Write<T>(IEnumerable<T> items, string? nextCursor, Action<Utf8JsonWriter, T> writeItem)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("items");
            foreach (var item in items)
            {
                writeItem(writer, item);
            }

            writer.WriteEndArray();
            if (nextCursor is null)
            {
                writer.WriteNull("nextCursor");
            }
            else
            {
                writer.WriteString("nextCursor", nextCursor);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A page whose every item is one stored document.</summary>
    public static string OfDocuments(IEnumerable<string> documents, string? nextCursor) =>
        Write(documents, nextCursor, static (writer, document) => writer.WriteRawValue(document, skipInputValidation: true));
}
