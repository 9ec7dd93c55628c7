using IntelSharing.Api.Features.Deliveries;
using IntelSharing.Api.Infrastructure.OpenApi;

namespace IntelSharing.IntegrationTests.Contract;

/// <summary>
/// docs/webhooks.md's table of event types (issue 11, item 12) is written by hand from the list the OpenAPI document is
/// written from; this keeps the two in step, so a new event type cannot ship undocumented, nor a documented one vanish.
/// </summary>
public sealed class WebhookEventDocsTests
{
    public static TheoryData<string> EventTypes => [.. WebhookEventsContract.All.Select(e => e.Type)];

    private static string[] DocumentedRows()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory!.FullName, "IntelSharing.sln")))
        {
            directory = directory.Parent;
        }

        return File.ReadAllLines(Path.Combine(directory.FullName, "docs", "webhooks.md"))
            .Where(line => line.StartsWith("| `", StringComparison.Ordinal) && line.Contains($"| `{WebhookEventContract.EnvelopeSchemaPrefix}", StringComparison.Ordinal))
            .ToArray();
    }

    [Theory]
    [MemberData(nameof(EventTypes))]
    public void Docs_webhooks_lists_the_event_type_with_its_body_schema(string type) =>
        Assert.Contains(DocumentedRows(), row => row.StartsWith($"| `{type}` | `{WebhookEventContract.EnvelopeSchemaPrefix}{type}` |", StringComparison.Ordinal));

    [Fact]
    public void Docs_webhooks_lists_no_event_type_that_is_not_in_the_contract()
    {
        var rows = WebhookEventsContract.All.Select(e => $"| `{e.Type}` | `{e.EnvelopeSchemaName}` |").ToList();
        var unknown = DocumentedRows().Where(row => !rows.Any(r => row.StartsWith(r, StringComparison.Ordinal))).ToList();

        Assert.True(unknown.Count == 0, "Documented but not in WebhookEventsContract.All:\n" + string.Join('\n', unknown));
    }
}
