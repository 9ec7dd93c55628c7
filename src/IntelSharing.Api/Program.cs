using FluentValidation;
using IntelSharing.Api.Features;
using IntelSharing.Api.Features.Agencies;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Validation;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

const long MaxRequestBodyBytes = 1024 * 1024;

var builder = WebApplication.CreateBuilder(args);

builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
});

builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();
DapperTypeHandlers.Register();
builder.Services.AddSingleton<Database>();
builder.Services.AddSingleton<Migrator>();
builder.Services.AddSingleton<ServerKeyring>();
builder.Services.AddHostedService<DatabaseStartup>();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<AlertCursor>();

// Audit trail: requests insert unsealed records; one sealer at a time links them into the hash chain.
builder.Services.AddHttpContextAccessor();
builder.Services.AddScoped<AuditTrail>();
builder.Services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<AuditOptions>, AuditOptionsValidator>();
builder.Services.AddSingleton<AuditSealer>();
builder.Services.AddHostedService<AuditSealingService>();

// Abuse limits: per-agency rate limit, per-address throttle of failed authentications, key use recorded lazily.
builder.Services.AddOptions<AbuseLimitOptions>().BindConfiguration(AbuseLimitOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<AbuseLimitOptions>, AbuseLimitOptionsValidator>();
builder.Services.AddAgencyRateLimiting();
builder.Services.AddSingleton<AuthFailureThrottle>();
builder.Services.AddSingleton<ApiKeyUsage>();
builder.Services.AddHostedService<ApiKeyUsageFlusher>();

// Binding failures (malformed JSON, wrong types) are thrown to ProblemExceptionHandler in every environment, so they are answered like every other 400.
builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
builder.Services.ConfigureHttpJsonOptions(options => JsonDefaults.Apply(options.SerializerOptions));
builder.Services.Configure<Microsoft.AspNetCore.Mvc.JsonOptions>(options => JsonDefaults.Apply(options.JsonSerializerOptions));

builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = ProblemCustomization.Apply);
builder.Services.AddExceptionHandler<ProblemExceptionHandler>();

builder.Services.AddMediator(options =>
{
    options.ServiceLifetime = ServiceLifetime.Scoped;
    options.PipelineBehaviors = [typeof(ValidationBehavior<,>)];
});
builder.Services.AddValidatorsFromAssemblyContaining<Program>(ServiceLifetime.Singleton, includeInternalTypes: true);

builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
    .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
builder.Services.AddAuthorization(options =>
{
    foreach (var scope in Scopes.All)
    {
        options.AddPolicy(scope, policy => policy.RequireAuthenticatedUser().RequireClaim(Caller.ScopeClaim, scope));
    }

    // Every endpoint requires a key unless it says otherwise (health, the OpenAPI document and Swagger UI).
    options.FallbackPolicy = options.DefaultPolicy;
});

builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
builder.Services.AddIntelSharingOpenApi();

var app = builder.Build();

if (args.Length > 0 && args[0] == BootstrapAdmin.CommandName)
{
    return await BootstrapAdmin.RunAsync(app.Services, args, Console.Out, CancellationToken.None);
}

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseMiddleware<RequestBodyLimit>(MaxRequestBodyBytes);
app.UseMiddleware<AuthFailureThrottleMiddleware>();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();

app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous().DisableRateLimiting();
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") }).AllowAnonymous().DisableRateLimiting();
app.UseSwagger();
app.UseSwaggerUI(options => options.DocumentTitle = "IntelSharing API");
app.MapApi();

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
