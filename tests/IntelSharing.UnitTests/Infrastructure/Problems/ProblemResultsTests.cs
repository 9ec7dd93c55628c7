using System.Text.Json;
using IntelSharing.Api.Infrastructure.Http;
using IntelSharing.Api.Infrastructure.Problems;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace IntelSharing.UnitTests.Infrastructure.Problems;

// What an endpoint's Results<…> union declares for the OpenAPI document, and what it answers (ADR 42).
public sealed class ProblemResultsTests
{
    private sealed record Thing(string Name);

    [Fact]
    public async Task A_not_found_failure_is_answered_404_as_problem_json_by_the_member_that_declares_it()
    {
        Result<Thing> result = Failure.NotFound("thing");

        var answer = result.Match(TypedResults.Ok).OrProblem<Problem404, Problem409>();
        var (status, contentType, body) = await ExecuteAsync(answer);

        Assert.IsType<Problem404>(answer.Result);
        Assert.Equal(StatusCodes.Status404NotFound, status);
        Assert.Equal("application/problem+json", contentType);
        Assert.Equal(ProblemTypes.NotFound, body.GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_failure_whose_status_no_member_declares_is_answered_with_its_own_status_not_500()
    {
        Result<Thing> result = Failure.Conflict("The thing is revoked.");

        var answer = result.Match(TypedResults.Ok).OrProblem<Problem404>();
        var (status, _, body) = await ExecuteAsync(answer);

        Assert.IsType<CommonProblem>(answer.Result);
        Assert.Equal(StatusCodes.Status409Conflict, status);
        Assert.Equal("The thing is revoked.", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_success_is_answered_by_the_success_member()
    {
        Result<Thing> result = new Thing("Horgoš");

        var answer = result.Match(TypedResults.Ok).OrProblem<Problem404>();
        var (status, _, body) = await ExecuteAsync(answer);

        Assert.Equal(StatusCodes.Status200OK, status);
        Assert.Equal("Horgoš", body.GetProperty("name").GetString());
    }

    [Fact]
    public void The_union_declares_the_success_schema_and_each_problem_status_and_nothing_for_the_common_member()
    {
        var declared = Declared<Results<JsonDocumentResult<Thing>, Problem404, Problem409, CommonProblem>>();

        Assert.Equal(
            [(200, typeof(Thing), "application/json"), (404, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), "application/problem+json"),
             (409, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), "application/problem+json")],
            declared);
    }

    [Fact]
    public void A_stored_document_created_is_declared_201_with_its_schema()
    {
        Assert.Equal([(201, typeof(Thing), "application/json")], Declared<CreatedJsonDocumentResult<Thing>>());
    }

    private static List<(int Status, Type? Type, string ContentType)> Declared<T>() where T : IEndpointMetadataProvider
    {
        var builder = new RouteEndpointBuilder(_ => Task.CompletedTask, RoutePatternFactory.Parse("/"), 0);
        T.PopulateMetadata(typeof(ProblemResultsTests).GetMethod(nameof(Declared), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!, builder);
        return builder.Metadata.OfType<IProducesResponseTypeMetadata>().Select(m => (m.StatusCode, m.Type, m.ContentTypes.Single())).ToList();
    }

    private static async Task<(int Status, string? ContentType, JsonElement Body)> ExecuteAsync(IResult result)
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        var body = new MemoryStream();
        context.Response.Body = body;

        await result.ExecuteAsync(context);

        return (context.Response.StatusCode, context.Response.ContentType, JsonDocument.Parse(body.ToArray()).RootElement.Clone());
    }
}
