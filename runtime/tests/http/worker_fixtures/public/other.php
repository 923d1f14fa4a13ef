<?php
echo "OTHER FILE EXECUTED\n";
