using System.Globalization;
using FluentValidation;
using IntelSharing.Api.Features;
using IntelSharing.Api.Features.Agencies;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Features.Deliveries;
using IntelSharing.Api.Features.Feed;
using IntelSharing.Api.Features.Indicators;
using IntelSharing.Api.Features.Statistics;
using IntelSharing.Api.Features.Stix;
using IntelSharing.Api.Features.WebConsole;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Configuration;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Delivery;
using IntelSharing.Api.Infrastructure.Hosting;
using IntelSharing.Api.Infrastructure.Http;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Observability;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Validation;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Prometheus;

const long MaxRequestBodyBytes = RequestBodyLimit.MaxBytes;

// Help, the migration SQL and refusing an unknown command need no configuration, so they answer before it is read.
if (CommandLine.RunWithoutHost(args, Console.Out, Console.Error) is { } finished)
{
    return finished;
}

var builder = WebApplication.CreateBuilder(args);
if (SecretFiles.Add(builder.Configuration) is { } secretsMistake)
{
    if (!StartupConfiguration.OwnsProcess)
    {
        throw new InvalidOperationException(secretsMistake);
    }

    await Console.Error.WriteLineAsync($"IntelSharing cannot start: {secretsMistake}");
    return StartupConfiguration.ExitCode;
}

builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
});

builder.Services.AddOptions<DatabaseOptions>().Configure<IConfiguration>(DatabaseOptionsValidator.Bind).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();
DapperTypeHandlers.Register();
builder.Services.AddSingleton<Database>();
builder.Services.AddSingleton<Migrator>();
builder.Services.AddSingleton<ServerKeyring>();
builder.Services.AddHostedService<DatabaseStartup>();
// After the migrations: indexes alerts stored before search existed, however migration 15 was applied (ADR 21).
builder.Services.AddHostedService<AlertSearch.Backfill>();
// After the migrations: records the STIX objects of alerts stored before TAXII's object index (migration 21, ADR 28).
builder.Services.AddHostedService<StixObjectIndex.Backfill>();
// In the background after start: renders the STIX objects of alerts that have none under the current mapping (ADR 36).
builder.Services.AddHostedService<StixRendering.Backfill>();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<KeysetCursor>();
builder.Services.AddSingleton<KeysetPaging>();

// Group commit (ADR 17): submissions, and audit records that stand alone, share transactions and WAL flushes.
builder.Services.AddSingleton<IValidateOptions<CommitGroupOptions>, CommitGroupOptionsValidator>();
CommitGroupOptions.Register<SubmitAlert.Submission, SubmitAlert.Stored, SubmitAlert.Commits>(builder.Services);
CommitGroupOptions.Register<AuditRecord, bool, AuditRecordCommits>(builder.Services);

builder.Services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<DeliveryOptions>, DeliveryOptionsValidator>();
builder.Services.AddOptions<SecretsOptions>().BindConfiguration(SecretsOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<SecretsOptions>, SecretsOptionsValidator>();
builder.Services.AddSingleton<SecretProtector>();
builder.Services.AddSingleton(Random.Shared);
builder.Services.AddSingleton<RetrySchedule>();
builder.Services.AddSingleton<Outbox>();
builder.Services.AddSingleton<DeliverySignal>();
builder.Services.AddSingleton<DeliveryMetrics>();
builder.Services.AddSingleton<MetricsExport>();
builder.Services.AddSingleton<DeliveryBacklog>();
builder.Services.AddIntelSharingTelemetry(builder.Configuration);
builder.Services.AddSingleton<WebhookSender>();
builder.Services.AddPartnerHttp();
builder.Services.AddHostedService<DeliveryDispatcher>();
// Stopping waits for the dispatcher's shutdown grace plus a margin to record what it cut off (docs/webhooks.md, "Shutdown").
// Read from configuration, not from the validated DeliveryOptions: the host resolves HostOptions while it is built,
// and a mistake in any Delivery setting would then crash the build instead of being reported with exit code 78 below.
builder.Services.AddOptions<HostOptions>().Configure<IConfiguration>((host, configuration) =>
{
    var grace = int.TryParse(configuration[$"{DeliveryOptions.Section}:{nameof(DeliveryOptions.ShutdownGraceSeconds)}"], CultureInfo.InvariantCulture, out var seconds)
        ? Math.Clamp(seconds, 0, 300)
        : new DeliveryOptions().ShutdownGraceSeconds;
    host.ShutdownTimeout = TimeSpan.FromSeconds(grace + 10);
});
builder.Services.AddOptions<SearchOptions>().BindConfiguration(SearchOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<SearchOptions>, SearchOptionsValidator>();
builder.Services.AddOptions<StatisticsOptions>().BindConfiguration(StatisticsOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<StatisticsOptions>, StatisticsOptionsValidator>();
builder.Services.AddSingleton<StatisticsRollup>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<StatisticsRollup>());
builder.Services.AddOptions<FeedOptions>().BindConfiguration(FeedOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<FeedOptions>, FeedOptionsValidator>();
builder.Services.AddSingleton<FeedSignals>();
builder.Services.AddSingleton<FeedSequencer>();
builder.Services.AddSingleton<FeedStreams>();
builder.Services.AddHostedService<FeedSequencingService>();
builder.Services.AddHostedService<FeedListener>();
builder.Services.AddSingleton<ExpirePersonalData>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<ExpirePersonalData>());
builder.Services.AddOptions<CorrelationOptions>().BindConfiguration(CorrelationOptions.Section)
    .Validate(o => o.PollIntervalMilliseconds is >= 50 and <= 600_000, "Correlation__PollIntervalMilliseconds must be from 50 to 600000.")
    .Validate(o => o.VersionsPerRun is >= 1 and <= 500, "Correlation__VersionsPerRun must be from 1 to 500.")
    .Validate(o => o.MaxMatchesPerVersion is >= 1 and <= 5_000, "Correlation__MaxMatchesPerVersion must be from 1 to 5000.")
    .Validate(o => o.MaxAlertsPerValue is >= 2 and <= 100_000, "Correlation__MaxAlertsPerValue must be from 2 to 100000.")
    .ValidateOnStart();
builder.Services.AddHostedService<CorrelateAlerts>();

// Audit trail: requests insert unsealed records; one sealer at a time links them into the hash chain.
builder.Services.AddHttpContextAccessor();
builder.Services.AddScoped<AuditTrail>();
builder.Services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<AuditOptions>, AuditOptionsValidator>();
builder.Services.AddSingleton<AuditSealer>();
builder.Services.AddSingleton<AuditHeadSigner>();
builder.Services.AddHostedService<AuditSealingService>();

// Abuse limits: per-agency rate limit, per-address throttle of failed authentications, key use recorded lazily.
builder.Services.AddOptions<AbuseLimitOptions>().BindConfiguration(AbuseLimitOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<AbuseLimitOptions>, AbuseLimitOptionsValidator>();
builder.Services.AddAgencyRateLimiting();
builder.Services.AddSingleton<AuthFailureThrottle>();
builder.Services.AddSingleton<ApiKeyUsage>();
builder.Services.AddHostedService<ApiKeyUsageFlusher>();
builder.Services.AddOptions<ApiKeyCacheOptions>().BindConfiguration(ApiKeyCacheOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<ApiKeyCacheOptions>, ApiKeyCacheOptionsValidator>();
builder.Services.AddSingleton<ApiKeyLookup>();
builder.Services.AddHostedService<ApiKeyChangeListener>();

// Binding failures (malformed JSON, wrong types) are thrown to ProblemExceptionHandler in every environment, so they are answered like every other 400.
builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
builder.Services.ConfigureHttpJsonOptions(options => JsonDefaults.Apply(options.SerializerOptions));
builder.Services.Configure<Microsoft.AspNetCore.Mvc.JsonOptions>(options => JsonDefaults.Apply(options.JsonSerializerOptions));

builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = ProblemCustomization.Apply);
builder.Services.AddSingleton<IProblemDetailsWriter, ProblemJsonFallbackWriter>();
builder.Services.AddExceptionHandler<ProblemExceptionHandler>();

builder.Services.AddMediator(options =>
{
    options.ServiceLifetime = ServiceLifetime.Scoped;
    options.PipelineBehaviors = [typeof(ValidationBehavior<,>)];
});
builder.Services.AddValidatorsFromAssemblyContaining<Program>(ServiceLifetime.Singleton, includeInternalTypes: true);

// The API authenticates bearer keys only; the console's cookie session is a second scheme that only console pages
// ask for, so a console cookie never authenticates an API request (and API endpoints need no CSRF defence).
builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
    .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
    .AddConsoleSession();
builder.Services.AddWebConsole();
builder.Services.AddAuthorization(options =>
{
    foreach (var scope in Scopes.All)
    {
        options.AddPolicy(scope, policy => policy.RequireAuthenticatedUser().RequireClaim(Caller.ScopeClaim, scope));
    }

    options.AddPolicy(DeliveryPolicies.Ledger, policy => policy.RequireAuthenticatedUser()
        .RequireClaim(Caller.ScopeClaim, Scopes.DeliveriesManage, Scopes.SubscriptionsManage));

    options.AddConsolePolicy();

    // Every endpoint requires a key unless it says otherwise (health, the OpenAPI document and Swagger UI).
    options.FallbackPolicy = options.DefaultPolicy;
});

builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
builder.Services.AddIntelSharingOpenApi(WebhookEventsContract.All);

var app = builder.Build();

// Configuration mistakes stop the process here, for the server and bootstrap-admin alike, with one line per
// mistake instead of a stack trace. When another program hosts this one in-process (WebApplicationFactory),
// it gets the validation exception from the host's start instead.
if (StartupConfiguration.OwnsProcess && StartupConfiguration.FindMistakes(app.Services) is { } mistakes)
{
    await Console.Error.WriteLineAsync(mistakes);
    return StartupConfiguration.ExitCode;
}

switch (CommandLine.CommandOf(args))
{
    case BootstrapAdmin.CommandName:
        return await BootstrapAdmin.RunAsync(app.Services, args, Console.Out, CancellationToken.None);
    case CommandLine.Migrate:
        return await CommandLine.MigrateAsync(app.Services, Console.Out, CancellationToken.None);
    case ReencryptSecrets.CommandName:
        return await ReencryptSecrets.RunAsync(app.Services, Console.Out, Console.Error, CancellationToken.None);
}

// The deployment-wide allowance opens internal networks to every agency's webhooks (issue 8, item 7): fine for a demo or a
// test rig, not for production, where an operator allows networks per agency.
if (!app.Environment.IsDevelopment() && app.Services.GetRequiredService<IOptions<DeliveryOptions>>().Value.AllowedPrivateNetworks is { Length: > 0 } everyone)
{
    app.Logger.LogWarning(
        "Delivery__AllowedPrivateNetworks lets every agency's webhooks reach {Networks}. In production allow internal networks per agency instead (PUT /api/v1/agencies/{{id}}/allowed-private-networks).",
        string.Join(", ", everyone));
}

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseMiddleware<RequestBodyLimit>(MaxRequestBodyBytes);

// The OpenAPI document and Swagger UI are middleware, not endpoints: placed after UseAuthorization they
// would fall under the fallback policy and ask integrators for a key before they can read the contract.
app.UseWebConsole();
app.UseSwagger();
app.UseSwaggerUI(options => options.DocumentTitle = "IntelSharing API");
app.UseMiddleware<AuthFailureThrottleMiddleware>();
app.UseAuthentication();
app.UseConsoleSessionBeforeRateLimits();
app.UseRateLimiter();
app.UseAuthorization();
app.UseRefusalOfQueryParametersWhereNoneAreTaken();

// Probes and scrapers send no query string; one that does is misconfigured and is told which parameter (400), as the API does.
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous().DisableRateLimiting()
    .WithMetadata(TakesNoQueryParameters.Instance);
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") }).AllowAnonymous().DisableRateLimiting()
    .WithMetadata(TakesNoQueryParameters.Instance);
app.MapApi();
app.MapRazorPages();

// Prometheus text format, for keys with metrics:read (a scraper's key need not manage agencies). Resolving the
// export here starts its listener before the first request, so nothing counted is missed; the backlog gauges are
// read from the database before each scrape.
var metricsExport = app.Services.GetRequiredService<MetricsExport>();
app.Services.GetRequiredService<DeliveryMetrics>();
var backlog = app.Services.GetRequiredService<DeliveryBacklog>();
metricsExport.Registry.AddBeforeCollectCallback(backlog.RefreshAsync);
app.MapMetrics("/metrics", metricsExport.Registry).RequireAuthorization(Scopes.MetricsRead).WithMetadata(TakesNoQueryParameters.Instance);

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
