<?php
echo ephpm_kv_get($_GET['k'] ?? '') ?? 'null', "\n";
