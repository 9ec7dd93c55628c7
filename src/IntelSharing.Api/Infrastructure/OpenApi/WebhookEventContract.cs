using System.Text.Json.Nodes;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// One webhook event type as the OpenAPI document describes it: the <c>type</c> string, what it tells the partner,
/// the C# type(s) its <c>data</c> is serialised from (more than one when the event has several shapes), and an example
/// <c>data</c>. The feature that sends the event declares it; <see cref="WebhookEventsDocumentFilter"/> writes it into
/// the document without knowing the features.
/// </summary>
public sealed record WebhookEventContract(string Type, string Description, IReadOnlyList<Type> DataTypes, Func<JsonNode> ExampleData)
{
    /// <summary>The components schema of the whole body (the envelope with this event's <c>data</c>).</summary>
    public string EnvelopeSchemaName => EnvelopeSchemaPrefix + Type;

    public const string EnvelopeSchemaPrefix = "WebhookEnvelope_";
}
