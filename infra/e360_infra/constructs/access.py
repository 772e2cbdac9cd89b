"""The way in for people: an HTTPS Application Load Balancer that authenticates every request
with Cognito (OIDC) before it reaches the steward app or the Dagster UI, behind AWS WAF, and
reachable from the configured corporate ranges only."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_actions as actions
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from e360_infra.config import EnvironmentConfig
from e360_infra.constructs.common import removal_policy
from e360_infra.constructs.lake import ALB_LOG_PREFIX
from e360_infra.constructs.network import Network

_MANAGED_RULES = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


class StewardAccess(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, env: EnvironmentConfig, network: Network
    ) -> None:
        super().__init__(scope, construct_id)
        config = env.access
        self.domain_name = config.domain_name

        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{env.prefix}-stewards",
            self_sign_up_enabled=False,  # stewards are invited by the platform team
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=env.retain,
            removal_policy=removal_policy(env),
        )
        self.user_pool_domain = self.user_pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=config.cognito_domain_prefix),
        )
        self.client = self.user_pool.add_client(
            "LoadBalancerClient",
            user_pool_client_name=f"{env.prefix}-alb",
            generate_secret=True,  # the ALB is a confidential OIDC client
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
                callback_urls=[f"https://{config.domain_name}/oauth2/idpresponse"],
                logout_urls=[f"https://{config.domain_name}/"],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            access_token_validity=cdk.Duration.hours(1),
            id_token_validity=cdk.Duration.hours(1),
            refresh_token_validity=cdk.Duration.hours(12),
        )

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description=f"{env.prefix} load balancer: HTTPS from the allowed ranges",
            allow_all_outbound=False,
        )
        for cidr in config.allowed_cidrs:
            self.security_group.add_ingress_rule(
                ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), f"HTTPS from {cidr}"
            )
        # The load balancer redeems the OIDC code at Cognito's token endpoint (public HTTPS).
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "Cognito token and user info endpoints"
        )

        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            load_balancer_name=env.prefix,
            vpc=network.vpc,
            internet_facing=config.internet_facing,
            vpc_subnets=network.public_subnets if config.internet_facing else network.app_subnets,
            security_group=self.security_group,
            drop_invalid_header_fields=True,
            deletion_protection=env.retain,
        )
        # The log bucket (data stack) carries the ELB delivery policy; set the attributes here
        # rather than through log_access_logs, which would edit that bucket from this stack.
        self.load_balancer.set_attribute("access_logs.s3.enabled", "true")
        self.load_balancer.set_attribute("access_logs.s3.bucket", env.bucket_name("logs"))
        self.load_balancer.set_attribute("access_logs.s3.prefix", ALB_LOG_PREFIX)

        self.listener = self.load_balancer.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_arn(config.certificate_arn)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            open=False,
            default_action=elbv2.ListenerAction.fixed_response(
                404, content_type="text/plain", message_body="not found"
            ),
        )

        if config.waf:
            self.web_acl = self._web_acl(env)

    def _web_acl(self, env: EnvironmentConfig) -> wafv2.CfnWebACL:
        web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"{env.prefix}-access",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True,
                metric_name=f"{env.prefix}-access",
                sampled_requests_enabled=True,
            ),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name=rule,
                    priority=priority,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name=rule
                        )
                    ),
                    visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                        cloud_watch_metrics_enabled=True,
                        metric_name=rule,
                        sampled_requests_enabled=True,
                    ),
                )
                for priority, rule in enumerate(_MANAGED_RULES)
            ],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.load_balancer.load_balancer_arn,
            web_acl_arn=web_acl.attr_arn,
        )
        return web_acl

    def expose(
        self,
        construct_id: str,
        service: ecs.FargateService,
        *,
        port: int,
        health_check_path: str,
        priority: int,
        path_patterns: Sequence[str] = ("/*",),
    ) -> elbv2.ApplicationTargetGroup:
        """Route matching paths to a service, after Cognito sign-in."""
        targets = elbv2.ApplicationTargetGroup(
            self,
            f"{construct_id}Targets",
            vpc=service.cluster.vpc,
            port=port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP,
            targets=[service],
            health_check=elbv2.HealthCheck(path=health_check_path, healthy_http_codes="200"),
            deregistration_delay=cdk.Duration.seconds(30),
        )
        self.listener.add_action(
            construct_id,
            priority=priority,
            conditions=[elbv2.ListenerCondition.path_patterns(list(path_patterns))],
            action=actions.AuthenticateCognitoAction(
                user_pool=self.user_pool,
                user_pool_client=self.client,
                user_pool_domain=self.user_pool_domain,
                session_timeout=cdk.Duration.hours(8),
                next=elbv2.ListenerAction.forward([targets]),
            ),
        )
        service.connections.allow_from(
            self.security_group, ec2.Port.tcp(port), "from the load balancer"
        )
        return targets

    @property
    def url(self) -> str:
        return f"https://{self.domain_name}/"
