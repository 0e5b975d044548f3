-- Reserved for issue 3; filled by that issue's work.
SELECT 1;
