-- Reserved for issue 4; filled by that issue's work.
SELECT 1;
